#include "plan/merge.hpp"

#include <doctest/doctest.h>

#include <set>

#include "plan/ownership.hpp"
#include "plan/secret_type.hpp"
#include "util/sha256.hpp"

using cmsync::KeyAction;
using cmsync::TargetAction;
using cmsync::kube::Object;
using cmsync::kube::Value;

namespace {

Object source(std::map<std::string, std::string> data) {
    Object cm;
    cm.namespace_name = "ns-a";
    cm.name = "app";
    cm.resource_version = "42";
    for (auto& [k, v] : data) {
        cm.data[k] = Value{v, false};
    }
    return cm;
}

// A copy of ns-a/app in ns-b with `data` and last-synced `hashes` (key -> value hashed).
Object target_copy(std::map<std::string, std::string> data,
                   std::optional<std::map<std::string, std::string>> hashed_values,
                   const std::string& from = "ns-a/app") {
    Object cm;
    cm.namespace_name = "ns-b";
    cm.name = "app";
    cm.resource_version = "7";
    for (auto& [k, v] : data) {
        cm.data[k] = Value{v, false};
    }
    cm.labels[cmsync::kManagedLabel] = "true";
    cm.annotations[cmsync::kSyncFromAnnotation] = from;
    if (hashed_values) {
        cmsync::KeyHashes h;
        for (auto& [k, v] : *hashed_values) {
            h[k] = cmsync::sha256_hex(v);
        }
        cm.annotations[cmsync::kLastSyncedAnnotation] = cmsync::format_last_synced(h);
    }
    return cm;
}

cmsync::TargetPlan plan(const Object& s, const Object* t,
                        std::optional<std::vector<std::string>> keys = std::nullopt,
                        bool force = false) {
    return cmsync::plan_target({&s, t, "ns-b", std::move(keys), force});
}

KeyAction key_action(const cmsync::TargetPlan& p, const std::string& key) {
    for (const auto& k : p.keys) {
        if (k.key == key) {
            return k.action;
        }
    }
    return KeyAction::untouched;
}

cmsync::KeyHashes recorded(const cmsync::TargetPlan& p) {
    REQUIRE(p.desired);
    return *cmsync::parse_last_synced(p.desired->annotations.at(cmsync::kLastSyncedAnnotation));
}

}  // namespace

TEST_CASE("merge table, row by row") {
    SUBCASE("s | none | none -> add") {
        const auto s = source({{"k", "v"}});
        const auto t = target_copy({}, std::map<std::string, std::string>{});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::add);
        CHECK(p.action == TargetAction::update);
        CHECK(p.desired->data.at("k").bytes == "v");
        CHECK(recorded(p).at("k") == cmsync::sha256_hex("v"));
    }
    SUBCASE("s | t == s | any -> unchanged, nothing written when recorded") {
        const auto s = source({{"k", "v"}});
        const auto t = target_copy({{"k", "v"}}, std::map<std::string, std::string>{{"k", "v"}});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::unchanged);
        CHECK(p.action == TargetAction::unchanged);
        CHECK_FALSE(p.write);
        CHECK_FALSE(p.desired);
    }
    SUBCASE("s | t == s | none -> unchanged, record h") {
        const auto s = source({{"k", "v"}});
        const auto t = target_copy({{"k", "v"}}, std::nullopt);
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::unchanged);
        CHECK(p.write);
        CHECK(recorded(p).at("k") == cmsync::sha256_hex("v"));
    }
    SUBCASE("s | t != s | hash(t) == h -> modify") {
        const auto s = source({{"k", "new"}});
        const auto t =
            target_copy({{"k", "old"}}, std::map<std::string, std::string>{{"k", "old"}});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::modify);
        CHECK(p.action == TargetAction::update);
        CHECK(p.desired->data.at("k").bytes == "new");
        CHECK(p.desired->resource_version == "7");
        CHECK(recorded(p).at("k") == cmsync::sha256_hex("new"));
    }
    SUBCASE("s | t != s | none -> conflict") {
        const auto s = source({{"k", "new"}});
        const auto t = target_copy({{"k", "theirs"}}, std::map<std::string, std::string>{});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::conflict);
        CHECK(p.action == TargetAction::conflict);
    }
    SUBCASE("s | t != s | hash(t) != h -> conflict, value and record kept") {
        const auto s = source({{"k", "new"}, {"j", "1"}});
        const auto t =
            target_copy({{"k", "edited"}}, std::map<std::string, std::string>{{"k", "old"}});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::conflict);
        CHECK(key_action(p, "j") == KeyAction::add);
        CHECK(p.action == TargetAction::conflict);
        REQUIRE(p.write);  // the other key still syncs
        CHECK(p.desired->data.at("k").bytes == "edited");
        CHECK(p.desired->data.at("j").bytes == "1");
        CHECK(recorded(p).at("k") == cmsync::sha256_hex("old"));
    }
    SUBCASE("s | none | present -> conflict (managed key deleted)") {
        const auto s = source({{"k", "v"}});
        const auto t = target_copy({}, std::map<std::string, std::string>{{"k", "v"}});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::conflict);
        CHECK(p.keys.front().reason == "managed key was deleted in the target");
    }
    SUBCASE("none | t | hash(t) == h -> remove") {
        const auto s = source({{"other", "x"}});
        const auto t = target_copy({{"k", "v"}, {"other", "x"}},
                                   std::map<std::string, std::string>{{"k", "v"}, {"other", "x"}});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::remove);
        CHECK(p.desired->data.count("k") == 0);
        CHECK(recorded(p).count("k") == 0);
    }
    SUBCASE("none | t | hash(t) != h -> conflict") {
        const auto s = source({});
        const auto t =
            target_copy({{"k", "edited"}}, std::map<std::string, std::string>{{"k", "v"}});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::conflict);
    }
    SUBCASE("none | none | present -> forget h") {
        const auto s = source({{"other", "x"}});
        const auto t = target_copy({{"other", "x"}},
                                   std::map<std::string, std::string>{{"k", "v"}, {"other", "x"}});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::forget);
        CHECK(p.write);
        CHECK(recorded(p).count("k") == 0);
    }
    SUBCASE("none | t or none | none -> untouched, warned when named in --keys") {
        const auto s = source({{"a", "1"}});
        const auto t = target_copy({{"a", "1"}, {"missing", "theirs"}},
                                   std::map<std::string, std::string>{{"a", "1"}});
        const auto p = plan(s, &t, std::vector<std::string>{"a", "missing"});
        CHECK(key_action(p, "missing") == KeyAction::untouched);
        CHECK(p.action == TargetAction::unchanged);
        REQUIRE(p.warnings.size() == 1);
        CHECK(p.warnings.front() == "key \"missing\" not in source ns-a/app");
    }
}

TEST_CASE("--force turns every conflict into the source's value or a removal") {
    SUBCASE("edited key overwritten") {
        const auto s = source({{"k", "new"}});
        const auto t =
            target_copy({{"k", "edited"}}, std::map<std::string, std::string>{{"k", "old"}});
        const auto p = plan(s, &t, std::nullopt, true);
        CHECK(key_action(p, "k") == KeyAction::modify);
        CHECK(p.keys.front().forced);
        CHECK(p.action == TargetAction::update);
        CHECK(p.desired->data.at("k").bytes == "new");
    }
    SUBCASE("deleted key restored") {
        const auto s = source({{"k", "v"}});
        const auto t = target_copy({}, std::map<std::string, std::string>{{"k", "v"}});
        CHECK(key_action(plan(s, &t, std::nullopt, true), "k") == KeyAction::add);
    }
    SUBCASE("key dropped by source but edited: removed") {
        const auto s = source({});
        const auto t =
            target_copy({{"k", "edited"}}, std::map<std::string, std::string>{{"k", "v"}});
        const auto p = plan(s, &t, std::nullopt, true);
        CHECK(key_action(p, "k") == KeyAction::remove);
        CHECK(p.desired->data.count("k") == 0);
    }
}

TEST_CASE("keys outside K and last-synced are never touched") {
    const auto s = source({{"config.yaml", "v2"}, {"secret-ish", "src"}});
    const auto t = target_copy({{"config.yaml", "v1"}, {"local", "mine"}, {"secret-ish", "theirs"}},
                               std::map<std::string, std::string>{{"config.yaml", "v1"}});
    const auto p = plan(s, &t, std::vector<std::string>{"config.yaml"});
    CHECK(p.action == TargetAction::update);
    CHECK(p.keys.size() == 1);
    CHECK(p.desired->data.at("local").bytes == "mine");
    CHECK(p.desired->data.at("secret-ish").bytes == "theirs");
    CHECK(p.desired->data.at("config.yaml").bytes == "v2");
}

TEST_CASE("a missing target is created with the managed keys, label and annotations") {
    const auto s = source({{"a", "1"}, {"b", "2"}});
    const auto p = plan(s, nullptr, std::vector<std::string>{"a"});
    CHECK(p.action == TargetAction::create);
    REQUIRE(p.desired);
    CHECK(p.desired->namespace_name == "ns-b");
    CHECK(p.desired->name == "app");
    CHECK(p.desired->data.size() == 1);
    CHECK(p.desired->labels.at(cmsync::kManagedLabel) == "true");
    CHECK(p.desired->annotations.at(cmsync::kSyncFromAnnotation) == "ns-a/app");
    CHECK(p.desired->annotations.at(cmsync::kSourceVersionAnnotation) == "42");
    CHECK(recorded(p) == cmsync::KeyHashes{{"a", cmsync::sha256_hex("1")}});
    CHECK(p.desired->resource_version.empty());
}

TEST_CASE("a created copy is of the source's kind, a Secret with the source's type") {
    auto s = source({{"tls.crt", "c"}, {"tls.key", "k"}});
    CHECK(plan(s, nullptr, std::nullopt).desired->kind == cmsync::kube::kConfigMap);
    CHECK(plan(s, nullptr, std::nullopt).desired->type.empty());
    s.kind = cmsync::kube::kSecret;
    s.type = "kubernetes.io/tls";
    const auto p = plan(s, nullptr, std::nullopt);
    REQUIRE(p.desired);
    CHECK(p.desired->kind == cmsync::kube::kSecret);
    CHECK(p.desired->type == "kubernetes.io/tls");
    CHECK_FALSE(plan(s, nullptr, std::nullopt).orphaned);
}

TEST_CASE("no empty copy is created when no managed key is in the source") {
    const auto s = source({{"a", "1"}});
    const auto p = plan(s, nullptr, std::vector<std::string>{"zzz"});
    CHECK(p.action == TargetAction::unchanged);
    CHECK_FALSE(p.write);
    CHECK(p.warnings.size() == 1);
}

TEST_CASE("a target owned by another source is a conflict as a whole") {
    const auto s = source({{"k", "v"}});
    const auto t =
        target_copy({{"k", "x"}}, std::map<std::string, std::string>{{"k", "x"}}, "ns-x/other");
    const auto p = plan(s, &t);
    CHECK(p.action == TargetAction::conflict);
    CHECK(p.message == "owned by ns-x/other");
    CHECK(p.keys.empty());
    CHECK_FALSE(p.write);
    SUBCASE("--force takes it over") {
        const auto forced = plan(s, &t, std::nullopt, true);
        CHECK(forced.action == TargetAction::update);
        CHECK(forced.desired->annotations.at(cmsync::kSyncFromAnnotation) == "ns-a/app");
        CHECK(forced.desired->data.at("k").bytes == "v");
    }
}

TEST_CASE("data and binaryData are one key space: a key moves with the source") {
    auto s = source({});
    s.data["k"] = Value{"\x01\x02", true};
    const auto t =
        target_copy({{"k", "\x01\x02"}}, std::map<std::string, std::string>{{"k", "\x01\x02"}});
    const auto p = plan(s, &t);
    CHECK(key_action(p, "k") == KeyAction::modify);
    CHECK(p.desired->data.at("k").binary);
}

TEST_CASE("immutable targets") {
    const auto s = source({{"k", "new"}});
    auto t = target_copy({{"k", "old"}, {"mine", "1"}},
                         std::map<std::string, std::string>{{"k", "old"}});
    t.immutable = true;
    t.labels["team"] = "web";
    SUBCASE("changes needed: an error for that target") {
        const auto p = plan(s, &t);
        CHECK(p.action == TargetAction::error);
        CHECK(p.message == "target is immutable (use --force to delete and recreate it)");
        CHECK_FALSE(p.write);
    }
    SUBCASE("--force: recreate, keeping unmanaged keys and labels") {
        const auto p = plan(s, &t, std::nullopt, true);
        CHECK(p.recreate);
        CHECK(p.desired->data.at("mine").bytes == "1");
        CHECK(p.desired->data.at("k").bytes == "new");
        CHECK(p.desired->labels.at("team") == "web");
        CHECK(p.desired->immutable);
        CHECK(p.desired->resource_version.empty());
    }
    SUBCASE("nothing to change: unchanged") {
        auto same = target_copy({{"k", "new"}}, std::map<std::string, std::string>{{"k", "new"}});
        same.immutable = true;
        CHECK(plan(s, &same).action == TargetAction::unchanged);
    }
}

TEST_CASE("a merged object over 1 MiB is an error found before sending") {
    const auto s = source({{"big", std::string(600 * 1024, 'x')}});
    const auto t =
        target_copy({{"own", std::string(500 * 1024, 'y')}}, std::map<std::string, std::string>{});
    const auto p = plan(s, &t);
    CHECK(p.action == TargetAction::error);
    CHECK(p.message.find("over the 1 MiB limit") != std::string::npos);
    CHECK_FALSE(p.write);
}

TEST_CASE("a malformed last-synced annotation is an error, not a silent overwrite") {
    const auto s = source({{"k", "v"}});
    auto t = target_copy({{"k", "x"}}, std::nullopt);
    t.annotations[cmsync::kLastSyncedAnnotation] = "not json";
    CHECK(plan(s, &t).action == TargetAction::error);
}

TEST_CASE("an unmanaged ConfigMap with equal values is adopted") {
    const auto s = source({{"k", "v"}});
    Object t;
    t.namespace_name = "ns-b";
    t.name = "app";
    t.data["k"] = Value{"v", false};
    const auto p = plan(s, &t);
    CHECK(p.action == TargetAction::update);
    CHECK(p.desired->labels.at(cmsync::kManagedLabel) == "true");
}

TEST_CASE("a target where no managed key can be synced is not claimed (writes nothing)") {
    const auto s = source({{"k", "new"}, {"j", "1"}});
    Object t;
    t.namespace_name = "ns-b";
    t.name = "app";
    t.resource_version = "7";
    t.data["k"] = Value{"theirs", false};
    t.data["j"] = Value{"2", false};
    SUBCASE("every managed key in conflict") {
        const auto p = plan(s, &t);
        CHECK(p.action == TargetAction::conflict);
        CHECK(key_action(p, "k") == KeyAction::conflict);
        CHECK(key_action(p, "j") == KeyAction::conflict);
        CHECK_FALSE(p.write);
        CHECK_FALSE(p.desired);
    }
    SUBCASE("immutable and in conflict") {
        t.immutable = true;
        const auto p = plan(s, &t);
        CHECK(p.action == TargetAction::conflict);
        CHECK_FALSE(p.write);
    }
    SUBCASE("one key in step: that key is adopted, the conflict reported") {
        t.data["j"] = Value{"1", false};
        const auto p = plan(s, &t);
        CHECK(p.action == TargetAction::conflict);
        REQUIRE(p.write);
        CHECK(recorded(p).count("j") == 1);
        CHECK(recorded(p).count("k") == 0);
        CHECK(p.desired->data.at("k").bytes == "theirs");
    }
    SUBCASE("--force writes the source's values") {
        const auto p = plan(s, &t, std::nullopt, true);
        CHECK(p.write);
        CHECK(p.desired->data.at("k").bytes == "new");
    }
}

TEST_CASE("source digests given by the caller: the same plan, with no hashing of the source") {
    const auto s = source({{"a", "1"}, {"b", "2"}, {"c", "3"}});
    const auto digests = cmsync::value_digests(s);
    CHECK(digests.at("b") == cmsync::sha256_hex("2"));
    const Object stale =
        target_copy({{"a", "0"}, {"b", "2"}, {"x", "9"}}, {{{"a", "0"}, {"b", "2"}}});
    const Object same =
        target_copy({{"a", "1"}, {"b", "2"}, {"c", "3"}}, {{{"a", "1"}, {"b", "2"}, {"c", "3"}}});
    const Object edited = target_copy({{"a", "hand"}}, {{{"a", "1"}}});
    for (const Object* t : {static_cast<const Object*>(nullptr), &stale, &same, &edited}) {
        for (const auto& keys : {std::optional<std::vector<std::string>>(),
                                 std::optional<std::vector<std::string>>({"a", "c"})}) {
            CAPTURE(t == nullptr ? std::string("none") : t->data.begin()->second.bytes);
            const auto hashed = cmsync::plan_target({&s, t, "ns-b", keys, false});
            const auto given = cmsync::plan_target({&s, t, "ns-b", keys, false, &digests});
            CHECK(given.action == hashed.action);
            CHECK(given.write == hashed.write);
            REQUIRE(given.desired.has_value() == hashed.desired.has_value());
            if (given.desired) {
                CHECK(given.desired->annotations == hashed.desired->annotations);
                CHECK(given.desired->data == hashed.desired->data);
            }
        }
    }
    // What is given is what is recorded: the source's values are not hashed again.
    auto marked = digests;
    marked["a"] = "given";
    const auto p = cmsync::plan_target({&s, nullptr, "ns-b", std::nullopt, false, &marked});
    REQUIRE(p.desired);
    CHECK(cmsync::parse_last_synced(p.desired->annotations.at(cmsync::kLastSyncedAnnotation))
              ->at("a") == "given");
}

TEST_CASE("the sync-from annotation names a source as NAMESPACE/NAME, or nothing") {
    const auto from = [](std::optional<std::string> text) {
        cmsync::kube::Object copy;
        if (text) {
            copy.annotations[cmsync::kSyncFromAnnotation] = *text;
        }
        return cmsync::sync_from(copy);
    };
    CHECK(from("a/app") == cmsync::kube::ObjectRef{"a", "app"});
    CHECK(cmsync::sync_from_text({"a", "app"}) == "a/app");
    for (const char* bad : {"", "a", "/app", "a/", "a/b/c", "/"}) {
        CAPTURE(bad);
        CHECK_FALSE(from(std::string(bad)));
    }
    CHECK_FALSE(from(std::nullopt));
    SUBCASE("a copy whose record is not NAMESPACE/NAME is owned by no source named here") {
        cmsync::kube::Object copy;
        copy.annotations[cmsync::kSyncFromAnnotation] = "a/app/x";
        CHECK_FALSE(cmsync::copy_of(copy, {"a", "app"}));
        const auto s = source({{"k", "v"}});
        const auto p = plan(s, &copy);
        CHECK(p.action == TargetAction::conflict);
        CHECK(p.message == "owned by a/app/x");
    }
}

namespace {

// A Secret copy of ns-a/app in ns-b holding `data`, managing `managed` keys, of which
// managedFields say cmsync set `owned`.
Object secret_copy(std::map<std::string, std::string> data, std::vector<std::string> managed,
                   std::set<std::string> owned) {
    auto copy = target_copy(std::move(data), std::nullopt);
    copy.kind = cmsync::kube::kSecret;
    std::string keys;
    for (const auto& k : managed) {
        keys += (keys.empty() ? "\"" : ",\"") + k + "\"";
    }
    copy.annotations[cmsync::kManagedKeysAnnotation] = "[" + keys + "]";
    copy.owned_keys.assign(owned.begin(), owned.end());
    return copy;
}

Object secret_source(std::map<std::string, std::string> data) {
    auto s = source(std::move(data));
    s.kind = cmsync::kube::kSecret;
    return s;
}

// No annotation of `o` holds a digest (or a prefix of one) of any of `values`.
void check_no_digest(const Object& o, const std::vector<std::string>& values) {
    for (const auto& [name, text] : o.annotations) {
        for (const auto& v : values) {
            CAPTURE(name);
            CHECK(text.find(cmsync::sha256_hex(v).substr(0, 8)) == std::string::npos);
            CHECK(text.find(v) == std::string::npos);
        }
    }
}

}  // namespace

TEST_CASE("Secrets: hand edits are found through managedFields, no digest is written") {
    const auto s = secret_source({{"k", "new-secret-value"}});
    SUBCASE("a new copy records its managed keys by name only") {
        const auto p = plan(s, nullptr);
        REQUIRE(p.desired);
        CHECK(p.desired->annotations.at(cmsync::kManagedKeysAnnotation) == R"(["k"])");
        CHECK(p.desired->annotations.count(cmsync::kLastSyncedAnnotation) == 0);
        check_no_digest(*p.desired, {"new-secret-value"});
    }
    SUBCASE("a key cmsync set last is updated") {
        const auto t = secret_copy({{"k", "old-value"}, {"own", "x"}}, {"k"}, {"k"});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::modify);
        CHECK(p.action == TargetAction::update);
        CHECK(p.desired->data.at("own").bytes == "x");
        CHECK(p.desired->annotations.at(cmsync::kManagedKeysAnnotation) == R"(["k"])");
        check_no_digest(*p.desired, {"new-secret-value", "old-value", "x"});
    }
    SUBCASE("a key another field manager set is a conflict, kept, and stays managed") {
        const auto t = secret_copy({{"k", "hand-edit"}}, {"k"}, {});
        const auto p = plan(s, &t);
        CHECK(key_action(p, "k") == KeyAction::conflict);
        CHECK(p.action == TargetAction::conflict);
        CHECK_FALSE(p.write);
        CHECK(p.hand_edited);
        const auto forced = plan(s, &t, std::nullopt, true);
        CHECK(forced.write);
        CHECK(forced.desired->data.at("k").bytes == "new-secret-value");
    }
    SUBCASE("a copy in step writes nothing, whoever set its values") {
        for (const auto& owned : {std::set<std::string>{"k"}, std::set<std::string>{}}) {
            const auto t = secret_copy({{"k", "new-secret-value"}}, {"k"}, owned);
            const auto p = plan(s, &t);
            CHECK(p.action == TargetAction::unchanged);
            CHECK_FALSE(p.write);
        }
    }
    SUBCASE("a managed key deleted by hand is a conflict, as for a ConfigMap") {
        const auto t = secret_copy({{"own", "x"}}, {"k"}, {});
        CHECK(key_action(plan(s, &t), "k") == KeyAction::conflict);
    }
    SUBCASE("a managed-keys annotation that is not a JSON array of keys is an error") {
        auto t = secret_copy({{"k", "v"}}, {"k"}, {"k"});
        t.annotations[cmsync::kManagedKeysAnnotation] = R"({"k":"x"})";
        const auto p = plan(s, &t);
        CHECK(p.action == TargetAction::error);
        CHECK(p.message == "annotation cmsync.io/managed-keys is not a JSON array of keys");
    }
    SUBCASE("--prune of an orphan: keys cmsync set go, edited ones are conflicts") {
        const auto t = secret_copy({{"a", "1"}, {"b", "edited"}}, {"a", "b"}, {"a"});
        const auto p = cmsync::plan_orphan(t, {"ns-a", "app"}, true, false);
        CHECK(key_action(p, "a") == KeyAction::remove);
        CHECK(key_action(p, "b") == KeyAction::conflict);
        REQUIRE(p.desired);
        CHECK(p.desired->annotations.at(cmsync::kManagedKeysAnnotation) == R"(["b"])");
        const auto clean = secret_copy({{"a", "1"}, {"own", "x"}}, {"a"}, {"a"});
        const auto q = cmsync::plan_orphan(clean, {"ns-a", "app"}, true, false);
        REQUIRE(q.desired);
        CHECK(q.desired->annotations.count(cmsync::kManagedKeysAnnotation) == 0);
        CHECK(q.desired->data.count("a") == 0);
    }
}

TEST_CASE("Secret types, as the API server enforces them") {
    auto tls = secret_source({{"tls.crt", "cert"}, {"tls.key", "key"}, {"ca.crt", "ca"}});
    tls.type = "kubernetes.io/tls";
    SUBCASE("a created copy gets the source's type") {
        const auto p = plan(tls, nullptr);
        REQUIRE(p.desired);
        CHECK(p.desired->type == "kubernetes.io/tls");
    }
    SUBCASE("a copy of keys that cannot make a TLS Secret is Opaque") {
        const auto p = plan(tls, nullptr, std::vector<std::string>{"ca.crt"});
        REQUIRE(p.desired);
        CHECK(p.desired->type == "Opaque");
        auto opaque = secret_copy({{"own", "x"}}, {}, {});
        opaque.annotations.erase(cmsync::kManagedKeysAnnotation);
        opaque.type = "Opaque";
        const auto into = plan(tls, &opaque, std::vector<std::string>{"ca.crt"});
        CHECK(into.action == TargetAction::update);
        CHECK(into.desired->type == "Opaque");
        CHECK_FALSE(into.recreate);
    }
    SUBCASE("a target of another type is a conflict; --force replaces it, own keys kept") {
        auto opaque = secret_copy({{"own", "x"}}, {}, {});
        opaque.annotations.erase(cmsync::kManagedKeysAnnotation);
        opaque.type = "Opaque";
        const auto p = plan(tls, &opaque);
        CHECK(p.action == TargetAction::conflict);
        CHECK(p.message ==
              "type Opaque differs from kubernetes.io/tls (use --force to replace the copy)");
        CHECK_FALSE(p.write);
        const auto forced = plan(tls, &opaque, std::nullopt, true);
        CHECK(forced.write);
        CHECK(forced.recreate);
        REQUIRE(forced.desired);
        CHECK(forced.desired->type == "kubernetes.io/tls");
        CHECK(forced.desired->data.at("own").bytes == "x");
        CHECK(forced.desired->resource_version.empty());
    }
    SUBCASE("service account tokens, bootstrap tokens and Helm releases are never sources") {
        for (const char* type : {"kubernetes.io/service-account-token",
                                 "bootstrap.kubernetes.io/token", "helm.sh/release.v1"}) {
            auto s = secret_source({{"token", "t"}});
            s.type = type;
            const auto p = plan(s, nullptr);
            CHECK(p.action == TargetAction::error);
            CHECK(p.message.find(std::string("source Secret ns-a/app is of type ") + type +
                                 ": not synced (") == 0);
            CHECK_FALSE(p.write);
        }
    }
    SUBCASE("an orphan whose managed keys were a TLS Secret's required ones cannot be pruned") {
        auto copy = secret_copy({{"tls.crt", "c"}, {"tls.key", "k"}, {"own", "x"}},
                                {"tls.crt", "tls.key"}, {"tls.crt", "tls.key"});
        copy.type = "kubernetes.io/tls";
        const auto p = cmsync::plan_orphan(copy, {"ns-a", "app"}, true, false);
        CHECK(p.action == TargetAction::error);
        CHECK(p.message ==
              "Secret \"app\" is invalid: [data[tls.crt]: Required value, "
              "data[tls.key]: Required value]");
        CHECK_FALSE(p.write);
    }
    SUBCASE("the required keys of each type, in the server's words") {
        Object s;
        s.kind = cmsync::kube::kSecret;
        s.name = "x";
        s.type = "kubernetes.io/basic-auth";
        CHECK(cmsync::type_problem(s) ==
              "Secret \"x\" is invalid: [data[username]: Required "
              "value, data[password]: Required value]");
        s.data["password"] = Value{"", false};  // either one, even empty
        CHECK_FALSE(cmsync::type_problem(s));
        s.type = "kubernetes.io/ssh-auth";
        s.data["ssh-privatekey"] = Value{"", false};  // must hold something
        CHECK(cmsync::type_problem(s) ==
              "Secret \"x\" is invalid: data[ssh-privatekey]: Required value");
        s.type = "kubernetes.io/dockerconfigjson";
        CHECK(cmsync::type_problem(s) ==
              "Secret \"x\" is invalid: data[.dockerconfigjson]: Required value");
        s.type = "Opaque";
        CHECK_FALSE(cmsync::type_problem(s));
        s.kind = cmsync::kube::kConfigMap;
        s.type = "kubernetes.io/tls";
        CHECK_FALSE(cmsync::type_problem(s));
    }
}
