#include "controller/rule_source.hpp"

#include "controller/rule_objects.hpp"
#include "controller/rule_status.hpp"
#include "error.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <functional>

namespace cmsync::controller {

namespace {

Rule rule(const std::string& name) {
    Rule r;
    r.name = name;
    return r;
}

// A source that answers from a script, one answer per question, then "unchanged".
struct Script {
    std::deque<std::optional<RuleUpdate>> answers;
    int asked = 0;
    RuleSource source() {
        return [this]() -> std::optional<RuleUpdate> {
            ++asked;
            if (answers.empty()) {
                return std::nullopt;
            }
            auto next = answers.front();
            answers.pop_front();
            return next;
        };
    }
};

}  // namespace

TEST_CASE("follow_rules: changed rules are applied, invalid ones logged and the old ones kept") {
    Script script;
    std::vector<std::vector<std::string>> applied;
    std::vector<std::string> logs;
    int slept_ms = 0;
    FollowOptions options;
    options.interval = std::chrono::milliseconds(1000);
    options.tick = std::chrono::milliseconds(100);
    options.sleep = [&](std::chrono::milliseconds d) { slept_ms += static_cast<int>(d.count()); };
    options.log = [&](const std::string& line) { logs.push_back(line); };
    const auto apply = [&](const std::vector<Rule>& rules) {
        std::vector<std::string> names;
        for (const auto& r : rules) {
            names.push_back(r.name);
        }
        applied.push_back(names);
    };
    const auto halt_after = [&](int ms) { return [&, ms] { return slept_ms >= ms; }; };

    SUBCASE("one question a second; unchanged means nothing is applied") {
        follow_rules(script.source(), apply, halt_after(5000), options);
        CHECK(script.asked == 4);  // the fifth second ends in the halt
        CHECK(applied.empty());
        CHECK(logs.empty());
    }
    SUBCASE("a change, an invalid file, then a fix") {
        script.answers = {RuleUpdate{{rule("a"), rule("b")}, {}}, std::nullopt,
                          RuleUpdate{{}, {"f.yaml:3:1: unknown field \"x\""}},
                          RuleUpdate{{rule("a")}, {}}};
        follow_rules(script.source(), apply, halt_after(6000), options);
        CHECK(applied == std::vector<std::vector<std::string>>{{"a", "b"}, {"a"}});
        CHECK(logs == std::vector<std::string>{
                          "rules file changed: 2 rule(s)",
                          "invalid rules file, the running rules stay: f.yaml:3:1: unknown field "
                          "\"x\"",
                          "rules file changed: 1 rule(s)"});
    }
    SUBCASE("no source (stdin): it only waits for the halt, noticed within a tick") {
        follow_rules(nullptr, apply, halt_after(250), options);
        CHECK(slept_ms == 300);
        CHECK(applied.empty());
    }
}

}  // namespace cmsync::controller

namespace cmsync {

namespace {

std::string cluster_rule(const std::string& name, const std::string& spec,
                         const std::string& created = "2026-12-07T06:00:00Z") {
    return R"({"apiVersion":"cmsync.io/v1alpha1","kind":"ClusterSyncRule","metadata":{"name":")" +
           name + R"(","generation":3,"creationTimestamp":")" + created + R"("},"spec":)" + spec +
           "}";
}

}  // namespace

TEST_CASE("rule objects: a ClusterSyncRule's spec is read as a rules file's rule of its name") {
    const auto o = controller::read_cluster_rule(cluster_rule(
        "app",
        R"({"source":{"namespace":"p","names":["app-config"]},"targets":{"namespaces":["a","b"]},"keys":["k"],"prune":true})"));
    CHECK(o.name == "app");
    CHECK(o.generation == 3);
    CHECK(o.created == "2026-12-07T06:00:00Z");
    REQUIRE(o.rule);
    CHECK(o.errors.empty());
    CHECK(o.rule->name == "app");
    CHECK(o.rule->spec.source_namespace == "p");
    CHECK(o.rule->spec.selection.names == std::vector<std::string>{"app-config"});
    CHECK(o.rule->spec.target_namespaces == std::vector<std::string>{"a", "b"});
    CHECK(o.rule->spec.keys == std::vector<std::string>{"k"});
    CHECK(o.rule->spec.prune);
    CHECK(o.rule->spec.kind == kube::kConfigMap);
    const auto secret = controller::read_cluster_rule(cluster_rule(
        "tls",
        R"({"source":{"kind":"Secret","namespace":"p","names":["tls"]},"targets":{"selector":"x=y"}})"));
    REQUIRE(secret.rule);
    CHECK(secret.rule->spec.kind == kube::kSecret);
}

TEST_CASE("rule objects: what slipped past admission is invalid, in the object's words") {
    struct Row {
        const char* spec;
        const char* error;
    };
    for (
        const auto& row : {
            Row{R"({"source":{"namespace":"p","names":["x"],"all":true},"targets":{"namespaces":["a"]}})",
                "spec.source"},
            Row{R"({"source":{"namespace":"p","names":["x"]},"targets":{"namespaces":["a","p"]}})",
                "is the source namespace"},
            Row{R"({"source":{"namespace":"p","names":["x"]},"targets":{"namespaces":["a"]},"force":true})",
                "unknown field \"force\""},
            Row{R"({"source":{"namespace":"p","selector":"a in (b"},"targets":{"namespaces":["a"]}})",
                "invalid label selector"},
            Row{R"({"targets":{"namespaces":["a"]}})", "missing field \"source\""},
        }) {
        CAPTURE(row.spec);
        const auto o = controller::read_cluster_rule(cluster_rule("r", row.spec));
        CHECK_FALSE(o.rule);
        REQUIRE_FALSE(o.errors.empty());
        CHECK(o.errors.front().find(row.error) != std::string::npos);
        CHECK(o.errors.front().rfind("spec", 0) == 0);  // no position in a made-up document
    }
    CHECK_THROWS_AS(controller::read_cluster_rule(R"({"metadata":{}})"), Error);
    CHECK_THROWS_AS(controller::read_cluster_rule("[1]"), Error);
}

TEST_CASE("rule objects: of two rules managing one copy from different sources, the older runs") {
    std::map<std::string, controller::RuleObject> objects;
    const auto add = [&](const std::string& name, const std::string& source,
                         const std::string& created) {
        objects[name] = controller::read_cluster_rule(
            cluster_rule(name,
                         R"({"source":{"namespace":")" + source +
                             R"(","names":["app"]},"targets":{"namespaces":["a"]}})",
                         created));
    };
    add("b-older", "p", "2026-12-07T06:00:00Z");
    add("a-younger", "q", "2026-12-07T06:00:01Z");
    add("c-same-source", "p", "2026-12-07T06:00:02Z");  // the same copy from the same source
    objects["d-invalid"] = controller::read_cluster_rule(cluster_rule("d-invalid", "{}"));
    const auto selection = controller::select_rules(objects, {});
    std::vector<std::string> names;
    for (const auto& rule : selection.rules) {
        names.push_back(rule.name);
    }
    CHECK(names == std::vector<std::string>{"b-older", "c-same-source"});
    REQUIRE(selection.refused.count("a-younger") == 1);
    CHECK(selection.refused.at("a-younger")
              .find("rules \"b-older\" and \"a-younger\" would both manage ConfigMap a/app") !=
          std::string::npos);
    CHECK(selection.refused.count("d-invalid") == 0);  // invalid: said by its own errors
}

}  // namespace cmsync

namespace cmsync {

TEST_CASE("rule status: Ready and why, the first that holds") {
    using controller::RuleState;
    const auto running = [] {
        RuleState s;
        s.generation = 2;
        s.running = true;
        s.counts.targets = 3;
        s.counts.in_step = 3;
        return s;
    };
    struct Row {
        std::function<void(RuleState&)> change;
        bool ready;
        const char* reason;
        const char* message;
    };
    for (const auto& row : std::vector<Row>{
             {[](RuleState&) {}, true, "InStep", "3 of 3 copies in step"},
             {[](RuleState& s) { s.counts.conflicts = 1, s.counts.in_step = 2; }, false,
              "Conflicts", "1 of 3 copies in conflict: kubectl cmsync diff shows which keys"},
             {[](RuleState& s) { s.counts.errors = 1, s.counts.conflicts = 1; }, false, "Errors",
              "1 of 3 copies failed to sync"},
             {[](RuleState& s) { s.counts.missing_sources = {"app"}; }, false, "SourceMissing",
              "source app not found"},
             {[](RuleState& s) { s.counts.in_step = 1; }, false, "Pending",
              "1 of 3 copies in step"},
             {[](RuleState& s) { s.running = false; }, false, "Pending", "starting"},
             {[](RuleState& s) {
                  s.failure = "forbidden", s.failure_code = 403, s.running = false;
              },
              false, "Forbidden", "forbidden"},
             {[](RuleState& s) { s.failure = "unreachable", s.running = false; }, false, "Failing",
              "unreachable"},
             {[](RuleState& s) { s.refused = "rules \"a\" and \"b\" would both manage"; }, false,
              "Overlap", "rules \"a\" and \"b\" would both manage"},
             {[](RuleState& s) {
                  s.invalid = {"spec.source: x", "spec.keys: y"};
              },
              false, "Invalid", "spec.source: x; spec.keys: y"},
         }) {
        auto s = running();
        row.change(s);
        const auto c = controller::ready_condition(s);
        CAPTURE(row.reason);
        CHECK(c.ready == row.ready);
        CHECK(c.reason == row.reason);
        CHECK(c.message == row.message);
    }
}

TEST_CASE("rule status: what is written reads back the same from the object") {
    controller::RuleState s;
    s.generation = 4;
    s.running = true;
    s.counts.targets = 2;
    s.counts.in_step = 1;
    s.counts.conflicts = 1;
    s.counts.orphaned = 3;
    s.counts.last_write_unix_ms = 1796625600123;  // 2026-12-07T06:40:00.123Z
    const auto ready = controller::ready_condition(s);
    const auto patch = controller::status_patch(s, ready, "2026-12-07T06:00:00Z");
    CHECK(patch.find(R"("lastSyncTime":"2026-12-07T06:40:00Z")") != std::string::npos);
    CHECK(patch.find(R"("observedGeneration":4)") != std::string::npos);
    CHECK(patch.find(R"("reason":"Conflicts")") != std::string::npos);
    // The object as the server sends it back: the status among other fields.
    const auto object = R"({"apiVersion":"cmsync.io/v1alpha1","kind":"ClusterSyncRule",)"
                        R"("metadata":{"name":"r","generation":4},"spec":{},)" +
                        patch.substr(1, patch.size() - 2) + "}";
    const auto observed = controller::observed_status(object);
    CHECK(observed.patch == patch);
    CHECK(observed.generation == 4);
    CHECK(observed.ready == ready);
    CHECK(observed.transition_time == "2026-12-07T06:00:00Z");
    CHECK(controller::observed_status(R"({"metadata":{"name":"r"}})").transition_time.empty());
    CHECK(controller::metav1_time(0) == "1970-01-01T00:00:00Z");
}

}  // namespace cmsync

namespace cmsync {

namespace {

std::string sync_rule(const std::string& ns, const std::string& name, const std::string& spec) {
    return R"({"kind":"SyncRule","metadata":{"namespace":")" + ns + R"(","name":")" + name +
           R"(","generation":1,"creationTimestamp":"2026-12-07T06:00:00Z"},"spec":)" + spec + "}";
}

std::string grant(const std::string& ns, const std::string& from) {
    return R"({"kind":"SyncGrant","metadata":{"namespace":")" + ns +
           R"(","name":"g"},"spec":{"from":)" + from + "}}";
}

}  // namespace

TEST_CASE("rule objects: a SyncRule's source is in its own namespace; its name is NS/NAME") {
    const auto o = controller::read_sync_rule(
        sync_rule("team", "app", R"({"source":{"names":["app"]},"targets":{"namespaces":["a"]}})"));
    REQUIRE(o.rule);
    CHECK(o.key() == "team/app");
    CHECK(o.rule->name == "team/app");
    CHECK(o.rule->spec.source_namespace == "team");
    CHECK(o.status_path() == "/apis/cmsync.io/v1alpha1/namespaces/team/syncrules/app/status");
    CHECK(o.label() == "SyncRule team/app");
    const auto other = controller::read_sync_rule(sync_rule(
        "team", "app",
        R"({"source":{"namespace":"platform","names":["app"]},"targets":{"namespaces":["a"]}})"));
    CHECK_FALSE(other.rule);
    REQUIRE(other.errors.size() == 1);
    CHECK(other.errors.front() ==
          "spec.source.namespace: a SyncRule's source is in its own namespace");
    const auto self = controller::read_sync_rule(
        sync_rule("team", "app", R"({"source":{"all":true},"targets":{"namespaces":["team"]}})"));
    CHECK_FALSE(self.rule);
    CHECK(self.errors.front().find("is the source namespace") != std::string::npos);
}

TEST_CASE("rule objects: where a SyncRule may write is where a grant consents") {
    const auto rule_of = [](const std::string& spec) {
        return *controller::read_sync_rule(sync_rule("team", "r", spec)).rule;
    };
    const auto named = rule_of(R"({"source":{"names":["app","db"]},"targets":{"selector":"x=y"}})");
    const auto selected = rule_of(R"({"source":{"selector":"a=b"},"targets":{"selector":"x=y"}})");
    const auto secret =
        rule_of(R"({"source":{"kind":"Secret","names":["app"]},"targets":{"selector":"x=y"}})");
    const std::vector<controller::Grant> grants{
        controller::read_grant(grant("any", R"([{"namespace":"team"}])")),
        controller::read_grant(grant("maps", R"([{"namespace":"team","kinds":["ConfigMap"]}])")),
        controller::read_grant(grant("both", R"([{"namespace":"team","names":["app","db"]}])")),
        controller::read_grant(grant("one", R"([{"namespace":"team","names":["app"]}])")),
        controller::read_grant(grant("other", R"([{"namespace":"elsewhere"}])")),
        controller::read_grant(grant("broken", R"("nope")")),
    };
    using V = std::vector<std::string>;
    CHECK(controller::granted_namespaces(named, grants) == V{"any", "both", "maps"});
    CHECK(controller::granted_namespaces(selected, grants) == V{"any", "maps"});
    CHECK(controller::granted_namespaces(secret, grants) == V{"any", "both", "one"});
    CHECK(controller::granted_namespaces(named, {}).empty());
}

TEST_CASE("rule objects: a SyncRule runs limited to its grants; named targets without one said") {
    std::map<std::string, controller::RuleObject> objects;
    auto o = controller::read_sync_rule(sync_rule(
        "team", "r", R"({"source":{"names":["app"]},"targets":{"namespaces":["a","b"]}})"));
    objects[o.key()] = o;
    const auto selection = controller::select_rules(
        objects, {controller::read_grant(grant("a", R"([{"namespace":"team"}])"))});
    REQUIRE(selection.rules.size() == 1);
    CHECK(selection.rules.front().spec.granted_namespaces == std::vector<std::string>{"a"});
    CHECK(may_target(selection.rules.front().spec, "a"));
    CHECK_FALSE(may_target(selection.rules.front().spec, "b"));
    CHECK(selection.not_granted.at("team/r") == std::vector<std::string>{"b"});
}

}  // namespace cmsync

namespace cmsync {

TEST_CASE("rule status: in its first pass a rule keeps the status it has of its generation") {
    controller::RuleState s;
    s.generation = 2;
    s.running = true;
    s.counts.targets = 10;
    s.counts.in_step = 3;
    const auto said = [&](std::int64_t generation, const controller::ReadyCondition& ready) {
        auto state = s;
        state.generation = generation;
        return controller::observed_status(
            controller::status_patch(state, ready, "2026-12-07T06:00:00Z"));
    };
    const auto pending = controller::ready_condition(s);
    REQUIRE(pending.reason == "Pending");
    // A Pending written once, or a restarted controller's InStep: kept, whatever the counts.
    CHECK(controller::keeps_status(2, said(2, pending)));
    CHECK(controller::keeps_status(2, said(2, {true, "InStep", "10 of 10 copies in step"})));
    // No status yet, or one of another generation: written.
    CHECK_FALSE(controller::keeps_status(2, controller::observed_status("{}")));
    CHECK_FALSE(controller::keeps_status(2, controller::observed_status(R"({"metadata":{}})")));
    CHECK_FALSE(controller::keeps_status(2, said(1, pending)));
}

}  // namespace cmsync
