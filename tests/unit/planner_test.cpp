// The planner against a fake API server (fake_api.hpp): which requests it sends to read sources,
// targets and namespaces, and what it plans from the answers.
#include "sync/planner.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "api_fixture.hpp"
#include "doctest_strings.hpp"
#include "fake_api.hpp"

using namespace cmsync;

namespace {

using Lines = std::vector<std::string>;
using Strings = std::map<std::string, std::string>;

const char* kPrefix = "GET /api/v1/namespaces/";

std::vector<std::string> names(const std::vector<kube::Object>& objects) {
    std::vector<std::string> out;
    for (const auto& o : objects) {
        out.push_back(o.name);
    }
    return out;
}

// "NS/NAME action", plus ": error" when the outcome has one.
std::string summary(const TargetOutcome& o) {
    auto out = o.target.str() + " " + to_string(o.action());
    if (!o.error.empty()) {
        out += ": " + o.error;
    }
    return out;
}

std::vector<std::string> summaries(const std::vector<TargetOutcome>& outcomes) {
    std::vector<std::string> out;
    for (const auto& o : outcomes) {
        out.push_back(summary(o));
    }
    return out;
}

kube::Object source_object(const std::string& name, const Strings& data,
                           const kube::Kind& kind = kube::kConfigMap) {
    kube::Object o;
    o.kind = kind;
    o.namespace_name = "src";
    o.name = name;
    o.resource_version = "9";
    for (const auto& [k, v] : data) {
        o.data[k] = kube::Value{v, false};
    }
    return o;
}

Selection by_names(std::vector<std::string> names) {
    return {std::move(names), "", false};
}

Selection by_selector(const std::string& selector) {
    return {{}, selector, false};
}

Selection all() {
    return {{}, "", true};
}

SyncSpec spec_of(Selection selection) {
    SyncSpec spec;
    spec.source_namespace = "src";
    spec.selection = std::move(selection);
    return spec;
}

RunOptions run_options(int concurrency = 1, int chunk_size = 500) {
    RunOptions run;
    run.concurrency = concurrency;
    run.chunk_size = chunk_size;
    return run;
}

std::string ns_name(int i) {
    return "n" + std::to_string(i);
}

}  // namespace

TEST_CASE("read_sources: by name, selector or all; paged; sorted and unique") {
    struct Row {
        const char* name;
        Selection selection;
        int chunk_size = 500;
        bool collect_missing = false;
        std::function<void(FakeApi&)> setup = {};
        Lines sources;
        Lines missing = {};
        Lines requests;
    };
    const std::string get = "GET /api/v1/namespaces/src/configmaps/";
    const std::string list = "GET /api/v1/namespaces/src/configmaps?";
    const std::vector<Row> rows = {
        {.name = "names: a GET each, in the order given; a repeated name counts once",
         .selection = by_names({"d", "a", "d"}),
         .sources = {"a", "d"},
         .requests = {get + "d", get + "a", get + "d"}},
        {.name = "names: a missing one is collected when asked",
         .selection = by_names({"gone", "a"}),
         .collect_missing = true,
         .sources = {"a"},
         .missing = {"gone"},
         .requests = {get + "gone", get + "a"}},
        {.name = "selector: the matching ones of the source namespace, page by page",
         .selection = by_selector("app=web"),
         .chunk_size = 2,
         .sources = {"a", "b", "d"},
         .requests = {list + "limit=2&labelSelector=app%3Dweb",
                      list + "limit=2&continue=p2&labelSelector=app%3Dweb"}},
        {.name = "all: no selector sent",
         .selection = all(),
         .chunk_size = 3,
         .sources = {"a", "b", "c", "d"},
         .requests = {list + "limit=3", list + "limit=3&continue=p3"}},
        {.name = "all: the continue token expires after a source was deleted; the list starts over",
         .selection = all(),
         .chunk_size = 2,
         .setup =
             [](FakeApi& fake) {
                 fake.expire("p2", [](FakeApi& f) { f.remove("configmaps", "src", "a"); });
             },
         .sources = {"b", "c", "d"},
         .requests = {list + "limit=2", list + "limit=2&continue=p2", list + "limit=2",
                      list + "limit=2&continue=p2"}},
        {.name = "all: a page out of order with a repeat comes back sorted and unique",
         .selection = all(),
         .setup =
             [](FakeApi& fake) {
                 fake.script(
                     "GET /api/v1/namespaces/src/configmaps?limit=500",
                     {200,
                      {},
                      R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"5"},"items":[)"
                      R"({"metadata":{"name":"d","namespace":"src"},"data":{"k":"d"}},)"
                      R"({"metadata":{"name":"a","namespace":"src"},"data":{"k":"a"}},)"
                      R"({"metadata":{"name":"d","namespace":"src"},"data":{"k":"d"}}]})"});
             },
         .sources = {"a", "d"},
         .requests = {list + "limit=500"}},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            ApiFixture<FakeApi> f;
            for (const auto& [name, app] :
                 Strings{{"a", "web"}, {"b", "web"}, {"c", "db"}, {"d", "web"}}) {
                f.server.add("configmaps",
                             configmap_json("src", name, {{"k", name}}, {{"app", app}}));
            }
            f.server.add("configmaps",
                         configmap_json("other", "e", {{"k", "e"}}, {{"app", "web"}}));
            if (row.setup) {
                row.setup(f.server);
            }
            std::vector<std::string> missing;
            const auto sources = read_sources(f.api, spec_of(row.selection), row.chunk_size,
                                              row.collect_missing ? &missing : nullptr);
            CHECK(names(sources) == row.sources);
            CHECK(missing == row.missing);
            CHECK(f.server.lines() == row.requests);
            CHECK(f.server.unexpected().empty());
            for (const auto& s : sources) {
                CHECK(s.namespace_name == "src");
                CHECK(s.data.at("k").bytes == s.name);
                if (row.selection.names.empty()) {
                    CHECK(s.raw.empty());  // sources are only read: no raw copy kept
                }
            }
        }
    }
}

TEST_CASE("read_sources: a missing named source is an error naming it") {
    ApiFixture<FakeApi> f;
    f.server.add("configmaps", configmap_json("src", "a", {{"k", "v"}}));
    SUBCASE("ConfigMap") {
        CHECK_THROWS_WITH_AS(read_sources(f.api, spec_of(by_names({"a", "gone", "b"})), 500),
                             "source ConfigMap \"gone\" not found in namespace \"src\"", Error);
        // Reading stops at the first missing one.
        CHECK(f.server.lines() == Lines{"GET /api/v1/namespaces/src/configmaps/a",
                                        "GET /api/v1/namespaces/src/configmaps/gone"});
    }
    SUBCASE("Secret") {
        auto spec = spec_of(by_names({"gone"}));
        spec.kind = kube::kSecret;
        CHECK_THROWS_WITH_AS(read_sources(f.api, spec, 500),
                             "source Secret \"gone\" not found in namespace \"src\"", Error);
        CHECK(f.server.lines() == Lines{"GET /api/v1/namespaces/src/secrets/gone"});
    }
    SUBCASE("a forbidden read is the API's error, not a missing source") {
        f.server.fail("GET", "/api/v1/namespaces/src/configmaps/a", status(403, "Forbidden", "no"));
        CHECK_THROWS_WITH_AS(
            read_sources(f.api, spec_of(by_names({"a"})), 500, nullptr),
            "get configmaps \"a\" in namespace \"src\": forbidden (check RBAC): no", Error);
    }
}

TEST_CASE("resolve_targets: named and selected, without the source and the excluded, sorted") {
    struct Row {
        const char* name;
        Lines named;
        std::string selector = {};
        Lines excluded = {};
        int chunk_size = 500;
        Lines targets;
        Lines requests = {};
    };
    const std::string list = "GET /api/v1/namespaces?limit=";
    const std::vector<Row> rows = {
        {.name = "named only: no request",
         .named = {"t3", "src", "t1", "t3"},
         .targets = {"t1", "t3"}},
        {.name = "named and excluded",
         .named = {"t1", "t2"},
         .excluded = {"t1", "zz"},
         .targets = {"t2"}},
        {.name = "selector plus named, excluded removed",
         .named = {"t9", "t1"},
         .selector = "env=prod",
         .excluded = {"t2"},
         .targets = {"t1", "t4", "t9"},
         .requests = {list + "500&labelSelector=env%3Dprod"}},
        {.name = "selector, paged; the source namespace matches and is dropped",
         .named = {},
         .selector = "env=prod",
         .chunk_size = 2,
         .targets = {"t1", "t2", "t4"},
         .requests = {list + "2&labelSelector=env%3Dprod",
                      list + "2&continue=p2&labelSelector=env%3Dprod"}},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            ApiFixture<FakeApi> f;
            f.server.add_namespace("src", {{"env", "prod"}});
            f.server.add_namespace("t1", {{"env", "prod"}});
            f.server.add_namespace("t2", {{"env", "prod"}});
            f.server.add_namespace("t3", {{"env", "dev"}});
            f.server.add_namespace("t4", {{"env", "prod"}});
            auto spec = spec_of(by_names({"a"}));
            spec.target_namespaces = row.named;
            spec.target_selector = row.selector;
            spec.exclude_namespaces = row.excluded;
            CHECK(resolve_targets(f.api, spec, row.chunk_size) == row.targets);
            CHECK(f.server.lines() == row.requests);
            CHECK(f.server.unexpected().empty());
        }
    }
}

TEST_CASE("read_targets: a GET per source up to eight, else one paged list of the namespace") {
    struct Row {
        const char* name;
        int sources;
        kube::Kind kind = kube::kConfigMap;
        int chunk_size = 500;
        std::function<void(FakeApi&)> setup = {};
        Lines present;  ///< the sources found, in source order
        Lines requests;
    };
    const auto gets = [](int n, const char* resource) {
        Lines out;
        for (int i = 0; i < n; ++i) {
            out.push_back(fmt::format("GET /api/v1/namespaces/t/{}/s{}", resource, i));
        }
        return out;
    };
    const std::string list = "GET /api/v1/namespaces/t/configmaps?";
    const std::vector<Row> rows = {
        {.name = "two sources: two GETs",
         .sources = 2,
         .present = {"s0"},
         .requests = gets(2, "configmaps")},
        {.name = "eight sources: still GETs",
         .sources = 8,
         .present = {"s0", "s2", "s4", "s6"},
         .requests = gets(8, "configmaps")},
        {.name = "nine sources: one list, in pages",
         .sources = 9,
         .chunk_size = 4,
         .present = {"s0", "s2", "s4", "s6", "s8"},
         .requests = {list + "limit=4", list + "limit=4&continue=p4"}},
        {.name = "nine sources, the token expires after s0 was deleted: the void page is forgotten",
         .sources = 9,
         .chunk_size = 4,
         .setup =
             [](FakeApi& fake) {
                 fake.expire("p4", [](FakeApi& f) { f.remove("configmaps", "t", "s0"); });
             },
         .present = {"s2", "s4", "s6", "s8"},
         .requests = {list + "limit=4", list + "limit=4&continue=p4", list + "limit=4",
                      list + "limit=4&continue=p4"}},
        {.name = "Secrets are read from secrets",
         .sources = 1,
         .kind = kube::kSecret,
         .present = {"s0"},
         .requests = gets(1, "secrets")},
        {.name = "nine Secrets: still GETs by name, never a list of every Secret of the namespace",
         .sources = 9,
         .kind = kube::kSecret,
         .present = {"s0", "s2", "s4", "s6", "s8"},
         .requests = gets(9, "secrets")},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            ApiFixture<FakeApi> f;
            // t holds copies of the even sources and a ConfigMap of its own.
            const std::string resource(row.kind.resource);
            for (int i = 0; i < 10; i += 2) {
                f.server.add(resource, R"({"kind":")" + std::string(row.kind.name) +
                                           R"(","metadata":{"namespace":"t","name":"s)" +
                                           std::to_string(i) + R"(","resourceVersion":")" +
                                           std::to_string(10 + i) + R"("}})");
            }
            f.server.add("configmaps", configmap_json("t", "other", {{"k", "v"}}));
            if (row.setup) {
                row.setup(f.server);
            }
            std::vector<kube::Object> sources;
            for (int i = 0; i < row.sources; ++i) {
                sources.push_back(source_object("s" + std::to_string(i), {}, row.kind));
            }
            const auto current = read_targets(f.api, "t", sources, row.chunk_size);
            REQUIRE(current.size() == sources.size());
            Lines present;
            for (std::size_t i = 0; i < current.size(); ++i) {
                if (current[i]) {
                    CHECK(current[i]->name == sources[i].name);  // at its source's index
                    CHECK(current[i]->namespace_name == "t");
                    CHECK(current[i]->resource_version ==
                          std::to_string(10 + std::stoi(sources[i].name.substr(1))));
                    present.push_back(current[i]->name);
                }
            }
            CHECK(present == row.present);
            CHECK(f.server.lines() == row.requests);
            CHECK(f.server.unexpected().empty());
        }
    }
}

TEST_CASE("plan_all: every outcome is of the spec's kind (what reports mask by)") {
    ApiFixture<FakeApi> f;
    f.server.add_namespace("t1", {});
    auto spec = spec_of(by_names({"a"}));
    spec.kind = kube::kSecret;
    const std::vector<kube::Object> sources{source_object("a", {{"k", "v"}}, kube::kSecret)};
    const auto outcomes = plan_all(f.api, spec, run_options(), sources, {"t1"}, nullptr);
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].kind == kube::kSecret);
    CHECK(outcomes[0].plan.desired->kind == kube::kSecret);
    CHECK(f.server.lines() == Lines{"GET /api/v1/namespaces/t1/secrets/a"});
}

TEST_CASE("plan_all: one outcome per source and target; a failed read fails that target only") {
    ApiFixture<FakeApi> f;
    f.server.add("configmaps", copy_json("t1", "a", "src/a", {{"k", "v"}}, {{"k", "v"}}));
    f.server.fail("GET", "/api/v1/namespaces/t2/configmaps/a", status(403, "Forbidden", "no"));
    const std::vector<kube::Object> sources = {source_object("a", {{"k", "v"}}),
                                               source_object("b", {{"k", "v"}})};
    const auto spec = spec_of(by_names({"a", "b"}));
    std::mutex mutex;
    std::set<std::string> handled;
    const OutcomeHandler handle = [&](TargetOutcome& o, const kube::Object& source) {
        std::lock_guard lock(mutex);
        CHECK(source.name == o.target.name);
        CHECK(o.error.empty());
        handled.insert(o.target.str());
        o.applied = true;  // what the handler does to the outcome is what is returned
    };
    const auto outcomes =
        plan_all(f.api, spec, run_options(3), sources, {"t1", "t2", "t3"}, handle);
    const std::string forbidden =
        "error: get configmaps \"a\" in namespace \"t2\": forbidden (check RBAC): no";
    CHECK(summaries(outcomes) == Lines{"t1/a unchanged", "t1/b create", "t2/a " + forbidden,
                                       "t2/b " + forbidden, "t3/a create", "t3/b create"});
    CHECK(handled == std::set<std::string>{"t1/a", "t1/b", "t3/a", "t3/b"});
    for (const auto& o : outcomes) {
        CHECK(o.source == kube::ObjectRef{"src", o.target.name});
        CHECK(o.applied == (o.target.namespace_name != "t2"));
    }
    CHECK(f.server.sorted_lines() ==
          Lines{"GET /api/v1/namespaces/t1/configmaps/a", "GET /api/v1/namespaces/t1/configmaps/b",
                "GET /api/v1/namespaces/t2/configmaps/a", "GET /api/v1/namespaces/t3/configmaps/a",
                "GET /api/v1/namespaces/t3/configmaps/b"});
    CHECK(f.server.unexpected().empty());
}

TEST_CASE("plan_all: the spec's keys and the run's force reach the merge") {
    struct Row {
        const char* name;
        std::optional<std::vector<std::string>> keys = std::nullopt;
        bool force = false;
        bool target = false;  ///< t holds an unmanaged ConfigMap "a" with k=theirs
        TargetAction action;
        Strings desired = {};  ///< data of the object to write; empty: none
    };
    const std::vector<Row> rows = {
        {.name = "every key of the source",
         .action = TargetAction::create,
         .desired = {{"k", "v"}, {"x", "1"}}},
        {.name = "--keys k",
         .keys = std::vector<std::string>{"k"},
         .action = TargetAction::create,
         .desired = {{"k", "v"}}},
        {.name = "an unmanaged copy: k in conflict and left alone, x still added",
         .target = true,
         .action = TargetAction::conflict,
         .desired = {{"k", "theirs"}, {"x", "1"}}},
        {.name = "an unmanaged copy with --force: taken over",
         .force = true,
         .target = true,
         .action = TargetAction::update,
         .desired = {{"k", "v"}, {"x", "1"}}},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            ApiFixture<FakeApi> f;
            if (row.target) {
                f.server.add("configmaps", configmap_json("t", "a", {{"k", "theirs"}}));
            }
            auto spec = spec_of(by_names({"a"}));
            spec.keys = row.keys;
            auto run = run_options();
            run.force = row.force;
            const auto outcomes =
                plan_all(f.api, spec, run, {source_object("a", {{"k", "v"}, {"x", "1"}})}, {"t"});
            REQUIRE(outcomes.size() == 1);
            CHECK(outcomes[0].plan.action == row.action);
            Strings desired;
            if (outcomes[0].plan.desired) {
                for (const auto& [k, v] : outcomes[0].plan.desired->data) {
                    desired[k] = v.bytes;
                }
            }
            CHECK(desired == row.desired);
            CHECK(f.server.write_lines().empty());
        }
    }
}

TEST_CASE("plan_all: a Secret's copies are read by name in each target, never cluster-wide") {
    ApiFixture<FakeApi> f;
    std::vector<std::string> targets;
    for (int t = 0; t < 50; ++t) {
        targets.push_back(ns_name(t));
        f.server.add_namespace(ns_name(t), {});
    }
    std::sort(targets.begin(), targets.end());
    auto spec = spec_of(by_names({"s0", "s1"}));
    spec.kind = kube::kSecret;
    const std::vector<kube::Object> sources{source_object("s0", {{"k", "v"}}, kube::kSecret),
                                            source_object("s1", {{"k", "v"}}, kube::kSecret)};
    const auto outcomes = plan_all(f.api, spec, run_options(4), sources, targets);
    CHECK(outcomes.size() == 100);
    Lines expected;
    for (const auto& ns : targets) {
        for (const char* name : {"s0", "s1"}) {
            expected.push_back(fmt::format("GET /api/v1/namespaces/{}/secrets/{}", ns, name));
        }
    }
    std::sort(expected.begin(), expected.end());
    CHECK(f.server.sorted_lines() == expected);
}

TEST_CASE("plan_all: from 50 targets, a few sources' copies are read with cluster-wide lists") {
    struct Row {
        const char* name;
        int targets;
        int sources;
        int chunk_size = 500;
        std::function<void(FakeApi&)> setup = {};
        std::function<Lines(int targets, int sources)> requests;
        Lines created_anyway = {};  ///< copies that exist but were deleted while listed
    };
    const auto gets = [](int targets, int sources) {
        Lines out;
        for (int t = 0; t < targets; ++t) {
            for (int s = 0; s < sources; ++s) {
                out.push_back(fmt::format("{}{}/configmaps/s{}", kPrefix, ns_name(t), s));
            }
        }
        return out;
    };
    const auto by_name = [](int chunk, int source, const std::string& more = "") {
        return fmt::format("GET /api/v1/configmaps?limit={}{}&fieldSelector=metadata.name%3Ds{}",
                           chunk, more, source);
    };
    const std::vector<Row> rows = {
        {.name = "50 targets, 2 sources: one list per source, no GET",
         .targets = 50,
         .sources = 2,
         .requests =
             [&](int, int) {
                 return Lines{by_name(500, 0), by_name(500, 1)};
             }},
        {.name = "49 targets: a GET per source and target",
         .targets = 49,
         .sources = 2,
         .requests = gets},
        {.name = "50 targets, 9 sources: a list per namespace",
         .targets = 50,
         .sources = 9,
         .requests =
             [](int targets, int) {
                 Lines out;
                 for (int t = 0; t < targets; ++t) {
                     out.push_back(fmt::format("{}{}/configmaps?limit=500", kPrefix, ns_name(t)));
                 }
                 return out;
             }},
        {.name = "a forbidden cluster-wide list: GETs instead",
         .targets = 50,
         .sources = 2,
         .setup =
             [](FakeApi& fake) {
                 fake.fail("GET", "/api/v1/configmaps",
                           status(403, "Forbidden", "namespaced Role"));
             },
         .requests =
             [&](int t, int s) {
                 auto out = gets(t, s);
                 out.push_back(by_name(500, 0));  // s1's is not sent
                 return out;
             }},
        {.name = "a paged cluster-wide list starts over: copies from the void pages are forgotten",
         .targets = 50,
         .sources = 2,
         .chunk_size = 4,
         .setup =
             [](FakeApi& fake) {
                 fake.expire("p4", [](FakeApi& f) { f.remove("configmaps", "n0", "s0"); });
             },
         .requests =
             [&](int, int) {
                 return Lines{by_name(4, 0),
                              by_name(4, 0, "&continue=p4"),
                              by_name(4, 0),
                              by_name(4, 0, "&continue=p4"),
                              by_name(4, 0, "&continue=p8"),
                              by_name(4, 1)};
             },
         .created_anyway = {"n0/s0"}},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            ApiFixture<FakeApi> f;
            // Copies of s0 in-step in n0..n9 and in a namespace that is no target; of s1 nowhere.
            for (int t = 0; t < 10; ++t) {
                f.server.add("configmaps",
                             copy_json(ns_name(t), "s0", "src/s0", {{"k", "v"}}, {{"k", "v"}}));
            }
            f.server.add("configmaps",
                         copy_json("elsewhere", "s0", "src/s0", {{"k", "old"}}, {{"k", "old"}}));
            if (row.setup) {
                row.setup(f.server);
            }
            std::vector<kube::Object> sources;
            for (int s = 0; s < row.sources; ++s) {
                sources.push_back(source_object("s" + std::to_string(s), {{"k", "v"}}));
            }
            std::vector<std::string> targets;
            for (int t = 0; t < row.targets; ++t) {
                targets.push_back(ns_name(t));
            }
            std::sort(targets.begin(), targets.end());
            const auto outcomes =
                plan_all(f.api, spec_of(all()), run_options(4, row.chunk_size), sources, targets);
            REQUIRE(outcomes.size() == targets.size() * sources.size());
            Lines expected;
            for (const auto& ns : targets) {
                for (const auto& s : sources) {
                    const auto label = ns + "/" + s.name;
                    // n0..n9 (two characters) hold an in-step copy of s0.
                    const bool copy = s.name == "s0" && ns.size() == 2 &&
                                      std::count(row.created_anyway.begin(),
                                                 row.created_anyway.end(), label) == 0;
                    expected.push_back(label + (copy ? " unchanged" : " create"));
                }
            }
            CHECK(summaries(outcomes) == expected);
            auto requests = row.requests(row.targets, row.sources);
            std::sort(requests.begin(), requests.end());
            CHECK(f.server.sorted_lines() == requests);
            CHECK(f.server.unexpected().empty());
        }
    }
}

TEST_CASE("check_target_namespaces: a create in a missing namespace becomes an error") {
    struct Row {
        const char* name;
        std::function<void(FakeApi&)> setup = {};
        bool gone_fails;  ///< the creates in namespace "gone" become errors
        Lines requests;   ///< sorted
    };
    const std::string get_gone = "GET /api/v1/namespaces/gone";
    const std::string get_here = "GET /api/v1/namespaces/here";
    const std::string probe = "/configmaps?fieldManager=kubectl-cmsync&dryRun=All";
    const std::string probe_gone = "POST /api/v1/namespaces/gone" + probe;
    const std::string probe_here = "POST /api/v1/namespaces/here" + probe;
    const std::vector<Row> rows = {
        {.name = "a GET of each namespace with creates",
         .gone_fails = true,
         .requests = {get_gone, get_here}},
        {.name = "GET forbidden (namespace Roles): a server dry-run create tells",
         .setup =
             [](FakeApi& fake) {
                 fake.fail("GET", "/api/v1/namespaces/gone", status(403, "Forbidden", "no"));
                 fake.fail("GET", "/api/v1/namespaces/here", status(403, "Forbidden", "no"));
             },
         .gone_fails = true,
         .requests = {get_gone, get_here, probe_gone, probe_here}},
        {.name = "GET and the probe forbidden: cannot tell, the plan stands",
         .setup =
             [](FakeApi& fake) {
                 fake.fail("GET", "/api/v1/namespaces/gone", status(403, "Forbidden", "no"));
                 fake.fail("POST", "/api/v1/namespaces/gone/configmaps",
                           status(403, "Forbidden", "no"));
             },
         .gone_fails = false,
         .requests = {get_gone, get_here, probe_gone}},
        {.name = "GET fails otherwise: cannot tell, no probe",
         .setup =
             [](FakeApi& fake) {
                 fake.fail("GET", "/api/v1/namespaces/gone",
                           status(500, "InternalError", "etcd is down"));
             },
         .gone_fails = false,
         .requests = {get_gone, get_here}},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            ApiFixture<FakeApi> f;
            f.server.add_namespace("here", {});
            f.server.add_namespace("gone2", {});
            if (row.setup) {
                row.setup(f.server);
            }
            const auto a = source_object("a", {{"k", "v"}});
            const auto b = source_object("b", {{"k", "v"}});
            kube::Object copy = a;
            copy.namespace_name = "gone2";
            copy.data["k"].bytes = "old";
            const auto outcome = [](const kube::Object& source, const std::string& ns,
                                    const kube::Object* target) {
                TargetOutcome o{source.ref(), {ns, source.name}, {}, ""};
                o.plan = plan_target({&source, target, ns, std::nullopt, true});
                return o;
            };
            std::vector<TargetOutcome> outcomes = {
                outcome(a, "gone", nullptr), outcome(b, "gone", nullptr),
                outcome(a, "here", nullptr), outcome(a, "gone2", &copy),  // an update: no check
                outcome(a, "gone3", nullptr)  // already an error: no check
            };
            outcomes[4].error = "read failed";
            check_target_namespaces(f.api, outcomes, 2);
            const auto missing = [](const char* name) {
                return std::string("error: create configmaps \"") + name +
                       "\" in namespace \"gone\": not found: namespaces \"gone\" not found";
            };
            CHECK(summaries(outcomes) ==
                  Lines{row.gone_fails ? "gone/a " + missing("a") : "gone/a create",
                        row.gone_fails ? "gone/b " + missing("b") : "gone/b create",
                        "here/a create", "gone2/a update", "gone3/a error: read failed"});
            CHECK(f.server.sorted_lines() == row.requests);
            CHECK_FALSE(f.server.stored("configmaps", "here", "a"));  // a probe stores nothing
            CHECK(f.server.unexpected().empty());
        }
    }
}
