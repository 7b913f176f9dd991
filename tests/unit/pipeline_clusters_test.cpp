// run_spec across clusters (issue 30): each cluster a fake API server of its own.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>

#include "api_fixture.hpp"
#include "doctest_strings.hpp"
#include "fake_api.hpp"
#include "http/transport.hpp"
#include "pipeline_fixture.hpp"
#include "sync/pipeline.hpp"

using namespace cmsync;

namespace {

using Lines = std::vector<std::string>;
using Strings = std::map<std::string, std::string>;

// A cluster whose API server cannot be reached: every request fails to connect.
class DownApi : public http::Transport {
  public:
    http::Response send(const http::Request&) override {
        ++requests;
        throw http::TransportError("cannot reach https://down: connection refused", true);
    }
    http::Response stream(const http::Request& r, const http::BodySink&,
                          const http::CancelCheck&) override {
        return send(r);
    }
    std::atomic<int> requests{0};
};

Lines summaries(const std::vector<TargetOutcome>& outcomes) {
    Lines out;
    for (const auto& o : outcomes) {
        auto line = o.label() + " from " + o.source_text() + " " + to_string(o.action());
        out.push_back(o.error.empty() ? line : line + ": " + o.error);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("run_spec across clusters: sources read once, each cluster written through its own") {
    ApiFixture<FakeApi> hub;
    ApiFixture<FakeApi> a;
    ApiFixture<FakeApi> b;
    hub.server.add("configmaps", configmap_json("src", "app", {{"k", "v"}}));
    // member-a: src is a namespace of its own there, and a target; web has a copy from the hub
    a.server.add_namespace("src", {});
    a.server.add("configmaps", configmap_json("web", "app", {{"own", "mine"}}));
    // member-b: web holds a copy of member-b's own src/app (not the hub's): another source
    b.server.add("configmaps", copy_json("web", "app", "src/app", {{"k", "old"}}, {{"k", "old"}}));
    b.server.add_namespace("src", {});
    const auto options = write_options();
    const auto run = run_spec({"hub", &hub.api}, {{"member-a", &a.api}, {"member-b", &b.api}},
                              app_spec({"src", "web"}), RunOptions{}, &options);
    CHECK(summaries(run.outcomes) == Lines{"member-a/src/app from hub/src/app create",
                                           "member-a/web/app from hub/src/app update",
                                           "member-b/src/app from hub/src/app create",
                                           "member-b/web/app from hub/src/app conflict"});
    CHECK(run.failed_clusters.empty());
    CHECK(hub.server.write_lines().empty());
    CHECK(hub.server.lines() == Lines{"GET /api/v1/namespaces/src/configmaps/app"});
    const auto copy = a.server.stored("configmaps", "web", "app");
    REQUIRE(copy);
    CHECK(copy->data == Strings{{"k", "v"}, {"own", "mine"}});
    CHECK(copy->annotations.at("cmsync.io/sync-from") == "src/app");
    CHECK(copy->annotations.at("cmsync.io/sync-from-cluster") == "hub");
    // member-b's own copy is left exactly as it was
    CHECK(b.server.stored("configmaps", "web", "app")->data == Strings{{"k", "old"}});
    CHECK(b.server.stored("configmaps", "web", "app")
              ->annotations.count("cmsync.io/sync-from-cluster") == 0);
    CHECK(a.server.unexpected().empty());
    CHECK(b.server.unexpected().empty());
}

TEST_CASE("run_spec across clusters: the source's own cluster as a target records no cluster") {
    ApiFixture<FakeApi> hub;
    hub.server.add("configmaps", configmap_json("src", "app", {{"k", "v"}}));
    hub.server.add_namespace("web", {});
    const auto options = write_options();
    const auto run =
        run_spec({"hub", &hub.api}, {{"hub", &hub.api}}, app_spec({"web"}), RunOptions{}, &options);
    CHECK(summaries(run.outcomes) == Lines{"hub/web/app from hub/src/app create"});
    const auto copy = hub.server.stored("configmaps", "web", "app");
    REQUIRE(copy);
    CHECK(copy->annotations.count("cmsync.io/sync-from-cluster") == 0);
}

TEST_CASE("run_spec across clusters: a failing cluster fails its own targets only") {
    ApiFixture<FakeApi> hub;
    ApiFixture<FakeApi> a;
    ApiFixture<DownApi> down;
    ApiFixture<FakeApi> forbidden;
    hub.server.add("configmaps", configmap_json("src", "app", {{"k", "v"}}));
    a.server.add_namespace("web", {});
    forbidden.server.fail("GET", "/api/v1/namespaces/web/configmaps/app",
                          status(403, "Forbidden", "no"));
    const auto options = write_options();
    auto spec = app_spec({"web"});
    SUBCASE("named targets: each carries its cluster's error") {
        const auto run =
            run_spec({"hub", &hub.api},
                     {{"member-a", &a.api}, {"member-b", &down.api}, {"member-c", &forbidden.api}},
                     spec, RunOptions{}, &options);
        CHECK(summaries(run.outcomes) ==
              Lines{"member-a/web/app from hub/src/app create",
                    "member-b/web/app from hub/src/app error: cannot reach https://down: "
                    "connection refused",
                    "member-c/web/app from hub/src/app error: get configmaps \"app\" in "
                    "namespace \"web\": forbidden (check RBAC): no"});
        CHECK(a.server.stored("configmaps", "web", "app"));
        CHECK(forbidden.server.write_lines().empty());
    }
    SUBCASE("a target selector that cannot be listed fails that cluster as a whole") {
        spec.target_selector = "team=web";
        const auto run =
            run_spec({"hub", &hub.api}, {{"member-a", &a.api}, {"member-b", &down.api}}, spec,
                     RunOptions{}, &options);
        REQUIRE(run.failed_clusters.size() == 1);
        CHECK(run.failed_clusters[0].cluster == "member-b");
        CHECK(run.failed_clusters[0].error == "cannot reach https://down: connection refused");
        CHECK(summaries(run.outcomes) ==
              Lines{"member-a/web/app from hub/src/app create",
                    "member-b/web/app from hub/src/app error: cannot reach https://down: "
                    "connection refused"});
    }
    SUBCASE("the source's cluster down: the rule cannot run") {
        CHECK_THROWS_AS(
            run_spec({"member-b", &down.api}, {{"member-a", &a.api}}, spec, RunOptions{}, &options),
            http::TransportError);
        CHECK(a.server.lines().empty());
    }
}

TEST_CASE("run_spec across clusters: diff plans in every cluster and writes nowhere") {
    ApiFixture<FakeApi> hub;
    ApiFixture<FakeApi> a;
    ApiFixture<FakeApi> b;
    hub.server.add("configmaps", configmap_json("src", "app", {{"k", "v"}}));
    a.server.add_namespace("web", {});
    // member-b has no namespace web: the create that sync would send is that target's error
    const auto run = run_spec({"hub", &hub.api}, {{"member-a", &a.api}, {"member-b", &b.api}},
                              app_spec({"web"}), RunOptions{}, nullptr);
    CHECK(summaries(run.outcomes) ==
          Lines{"member-a/web/app from hub/src/app create",
                "member-b/web/app from hub/src/app error: create configmaps \"app\" in namespace "
                "\"web\": not found: namespaces \"web\" not found"});
    CHECK(a.server.write_lines().empty());
    CHECK(b.server.write_lines().size() <= 1);  // at most a dry-run create (namespace Roles)
}
