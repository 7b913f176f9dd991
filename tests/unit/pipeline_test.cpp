// run_spec, the per-rule pipeline of diff and sync, against a fake API server (fake_api.hpp).
#include "sync/pipeline.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "api_fixture.hpp"
#include "doctest_strings.hpp"
#include "fake_api.hpp"
#include "pipeline_fixture.hpp"

using namespace cmsync;

namespace {

using Lines = std::vector<std::string>;
using Strings = std::map<std::string, std::string>;

std::string summary(const TargetOutcome& o) {
    auto out = o.target.str() + " " + to_string(o.action());
    if (o.applied) {
        out += " (applied)";
    }
    if (!o.error.empty()) {
        out += ": " + o.error;
    }
    return out;
}

Lines summaries(const std::vector<TargetOutcome>& outcomes) {
    Lines out;
    for (const auto& o : outcomes) {
        out.push_back(summary(o));
    }
    return out;
}

RunOptions run_options() {
    RunOptions run;
    run.concurrency = 2;
    return run;
}

// src/app (k=v) and its targets: t1 without a copy, t2 with an outdated one, t3 in step;
// namespace "missing" does not exist.
void add_world(FakeApi& fake) {
    fake.add("configmaps", configmap_json("src", "app", {{"k", "v"}}));
    fake.add_namespace("t1", {});
    fake.add("configmaps", copy_json("t2", "app", "src/app", {{"k", "old"}}, {{"k", "old"}}));
    fake.add("configmaps", copy_json("t3", "app", "src/app", {{"k", "v"}}, {{"k", "v"}}));
}

}  // namespace

TEST_CASE("run_spec: diff and sync share the plan; only sync writes") {
    enum class Mode { diff, sync, client, server };
    struct Row {
        const char* name;
        Mode mode;
        Lines outcomes;
        Lines writes = {};  ///< sorted
        bool namespaces_checked = false;
        bool summaries_only = false;  ///< the objects to write are dropped once applied
        Strings t1 = {};              ///< data of t1/app afterwards; empty: none
        Strings t2 = {{"k", "old"}};
    };
    const std::string not_found =
        "error: create configmaps \"app\" in namespace \"missing\": not found: namespaces "
        "\"missing\" not found";
    const std::string write = "?fieldManager=kubectl-cmsync";
    const std::string dry = write + "&dryRun=All";
    const std::string post = "POST /api/v1/namespaces/";
    const std::string put = "PUT /api/v1/namespaces/t2/configmaps/app";
    const Lines planned{"missing/app " + not_found, "t1/app create", "t2/app update",
                        "t3/app unchanged"};
    const Lines applied{"missing/app " + not_found, "t1/app create (applied)",
                        "t2/app update (applied)", "t3/app unchanged"};
    const std::vector<Row> rows = {
        {.name = "diff: nothing written; creates checked against their namespaces",
         .mode = Mode::diff,
         .outcomes = planned,
         .namespaces_checked = true},
        {.name = "sync --dry-run=client: as diff",
         .mode = Mode::client,
         .outcomes = planned,
         .namespaces_checked = true},
        {.name = "sync: written as planned, the server's 404 for the missing namespace",
         .mode = Mode::sync,
         .outcomes = applied,
         .writes = {post + "missing/configmaps" + write, post + "t1/configmaps" + write,
                    put + write},
         .summaries_only = true,
         .t1 = {{"k", "v"}},
         .t2 = {{"k", "v"}}},
        {.name = "sync --dry-run=server: sent with dryRun=All, nothing stored",
         .mode = Mode::server,
         .outcomes = applied,
         .writes = {post + "missing/configmaps" + dry, post + "t1/configmaps" + dry, put + dry},
         .summaries_only = true},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            ApiFixture<FakeApi> f;
            add_world(f.server);
            const auto options = write_options(row.mode == Mode::client   ? DryRunMode::client
                                               : row.mode == Mode::server ? DryRunMode::server
                                                                          : DryRunMode::none);
            const auto run = run_spec(f.api, app_spec({"t3", "t1", "missing", "t2"}), run_options(),
                                      row.mode == Mode::diff ? nullptr : &options);
            CHECK_FALSE(run.no_sources);
            CHECK(summaries(run.outcomes) == row.outcomes);
            CHECK(f.server.write_lines().size() == row.writes.size());
            auto writes = f.server.write_lines();
            std::sort(writes.begin(), writes.end());
            CHECK(writes == row.writes);
            Lines reads{"GET /api/v1/namespaces/missing/configmaps/app",
                        "GET /api/v1/namespaces/src/configmaps/app",
                        "GET /api/v1/namespaces/t1/configmaps/app",
                        "GET /api/v1/namespaces/t2/configmaps/app",
                        "GET /api/v1/namespaces/t3/configmaps/app"};
            if (row.namespaces_checked) {  // the namespaces of planned creates only
                reads.insert(reads.end(),
                             {"GET /api/v1/namespaces/missing", "GET /api/v1/namespaces/t1"});
            }
            std::sort(reads.begin(), reads.end());
            auto sent_reads = f.server.sorted_lines();
            std::erase_if(sent_reads, [](const std::string& l) { return l.rfind("GET ", 0) != 0; });
            CHECK(sent_reads == reads);
            CHECK(f.server.lines().front() == "GET /api/v1/namespaces/src/configmaps/app");
            CHECK(f.server.unexpected().empty());
            for (const auto& o : run.outcomes) {
                if (o.target.namespace_name == "t1" || o.target.namespace_name == "t2") {
                    CHECK(o.plan.desired.has_value() == !row.summaries_only);
                    REQUIRE(o.plan.keys.size() == 1);
                    CHECK(o.plan.keys[0].source.has_value() == !row.summaries_only);
                }
            }
            const auto t1 = f.server.stored("configmaps", "t1", "app");
            CHECK(t1.has_value() == !row.t1.empty());
            if (t1) {
                CHECK(t1->data == row.t1);
            }
            CHECK(f.server.stored("configmaps", "t2", "app")->data == row.t2);
        }
    }
}

TEST_CASE("run_spec: a 409 is planned again with the spec's keys and the run's force") {
    ApiFixture<FakeApi> f;
    f.server.add("configmaps", configmap_json("src", "app", {{"k", "v"}, {"x", "1"}}));
    // t1: not cmsync's (needs --force); t2: an outdated copy managing k only.
    f.server.add("configmaps", configmap_json("t1", "app", {{"k", "theirs"}}));
    f.server.add("configmaps", copy_json("t2", "app", "src/app", {{"k", "old"}}, {{"k", "old"}}));
    const std::string conflict = "the object has been modified";
    f.server.script("PUT /api/v1/namespaces/t1/configmaps/app?fieldManager=kubectl-cmsync",
                    status(409, "Conflict", conflict));
    f.server.script("PUT /api/v1/namespaces/t2/configmaps/app?fieldManager=kubectl-cmsync",
                    status(409, "Conflict", conflict));
    auto spec = app_spec({"t1", "t2"});
    spec.keys = std::vector<std::string>{"k"};
    auto run = run_options();
    run.force = true;
    const auto options = write_options(DryRunMode::none);
    const auto result = run_spec(f.api, spec, run, &options);
    CHECK(summaries(result.outcomes) ==
          Lines{"t1/app update (applied)", "t2/app update (applied)"});
    for (const auto& o : result.outcomes) {
        CHECK(o.conflicts_retried == 1);
    }
    CHECK(f.server.stored("configmaps", "t1", "app")->data == Strings{{"k", "v"}});
    CHECK(f.server.stored("configmaps", "t2", "app")->data == Strings{{"k", "v"}});
    CHECK(f.server.write_lines().size() == 4);
    CHECK(f.server.unexpected().empty());
}

TEST_CASE("run_spec: a selection matching nothing, a missing named source") {
    ApiFixture<FakeApi> f;
    add_world(f.server);
    SUBCASE("no source: nothing planned, no target read") {
        auto spec = app_spec({"t1", "t2"});
        spec.selection = {{}, "app=none", false};
        const auto run = run_spec(f.api, spec, run_options(), nullptr);
        CHECK(run.no_sources);
        CHECK(run.outcomes.empty());
        CHECK(f.server.lines() ==
              Lines{"GET /api/v1/namespaces/src/configmaps?limit=500&labelSelector=app%3Dnone"});
    }
    SUBCASE("a named source missing: the rule fails before any target is read") {
        f.server.remove("configmaps", "src", "app");
        const auto options = write_options(DryRunMode::none);
        CHECK_THROWS_WITH_AS(run_spec(f.api, app_spec({"t1"}), run_options(), &options),
                             "source ConfigMap \"app\" not found in namespace \"src\"", Error);
        CHECK(f.server.lines() == Lines{"GET /api/v1/namespaces/src/configmaps/app"});
    }
}
