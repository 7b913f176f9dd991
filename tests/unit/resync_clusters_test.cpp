// resync of copies whose source is in another cluster (issue 30): the source is read there.
#include <doctest/doctest.h>

#include "api_fixture.hpp"
#include "doctest_strings.hpp"
#include "error.hpp"
#include "fake_api.hpp"
#include "sync/resync.hpp"
#include "util/sha256.hpp"

using namespace cmsync;

namespace {

using Strings = std::map<std::string, std::string>;

// A copy in t of src/app recorded from cluster `cluster`, holding k=`value` as written.
std::string hub_copy(const std::string& cluster, const std::string& value) {
    return configmap_json("t", "app", {{"k", value}, {"own", "mine"}},
                          {{"cmsync.io/managed", "true"}},
                          {{"cmsync.io/sync-from", "src/app"},
                           {"cmsync.io/sync-from-cluster", cluster},
                           {"cmsync.io/last-synced", "{\"k\":\"" + sha256_hex(value) + "\"}"}});
}

ResyncRequest request_with(FakeApi* hub, kube::ApiClient* hub_api) {
    ResyncRequest r;
    r.namespaces = {"t"};
    r.concurrency = 1;
    r.cluster_api = [hub, hub_api](const std::string& cluster) -> kube::ApiClient& {
        if (cluster != "hub" || hub == nullptr) {
            throw Error("source is in cluster \"" + cluster +
                        "\" and the kubeconfig has no "
                        "context of that name");
        }
        return *hub_api;
    };
    return r;
}

std::vector<ResyncOutcome> run(kube::ApiClient& api, const ResyncRequest& request) {
    std::vector<ResyncOutcome> seen;
    resync(api, request, [&](const ResyncOutcome& o) { seen.push_back(o); });
    return seen;
}

}  // namespace

TEST_CASE("resync: a source in another cluster is read there, the copy kept recorded so") {
    ApiFixture<FakeApi> hub;
    ApiFixture<FakeApi> member;
    hub.server.add("configmaps", configmap_json("src", "app", {{"k", "new"}}));
    // a namesake of the source in the member's own cluster must not be read
    member.server.add("configmaps", configmap_json("src", "app", {{"k", "namesake"}}));
    member.server.add("configmaps", hub_copy("hub", "old"));
    const auto seen = run(member.api, request_with(&hub.server, &hub.api));
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].kind == ResyncKind::updated);
    CHECK(seen[0].target.source_text() == "hub/src/app");
    const auto stored = member.server.stored("configmaps", "t", "app");
    REQUIRE(stored);
    CHECK(stored->data == Strings{{"k", "new"}, {"own", "mine"}});
    CHECK(stored->annotations.at("cmsync.io/sync-from-cluster") == "hub");
    CHECK(hub.server.lines() ==
          std::vector<std::string>{"GET /api/v1/namespaces/src/configmaps/app"});
    for (const auto& line : member.server.lines()) {
        CHECK(line != "GET /api/v1/namespaces/src/configmaps/app");
    }
}

TEST_CASE("resync: a cluster it cannot reach by name, a source gone in the other cluster") {
    ApiFixture<FakeApi> hub;
    ApiFixture<FakeApi> member;
    SUBCASE("no context of the recorded name: that copy's error, left alone") {
        member.server.add("configmaps", hub_copy("platform", "old"));
        const auto seen = run(member.api, request_with(&hub.server, &hub.api));
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].kind == ResyncKind::error);
        CHECK(seen[0].target.error ==
              "source is in cluster \"platform\" and the kubeconfig has no context of that name");
        CHECK(member.server.write_lines().empty());
    }
    SUBCASE("without cluster_api: an error naming the cluster, nothing read") {
        member.server.add("configmaps", hub_copy("hub", "old"));
        ResyncRequest request;
        request.namespaces = {"t"};
        const auto seen = run(member.api, request);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].kind == ResyncKind::error);
        CHECK(seen[0].target.error ==
              "source is in cluster \"hub\": resync reads sources in this cluster only (sync it "
              "with --source-context)");
        CHECK(hub.server.lines().empty());
    }
    SUBCASE("the source gone in its cluster: orphaned; --prune removes the managed keys") {
        member.server.add("configmaps", hub_copy("hub", "old"));
        auto request = request_with(&hub.server, &hub.api);
        auto seen = run(member.api, request);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].kind == ResyncKind::orphaned);
        CHECK(seen[0].target.plan.message ==
              "orphaned: source hub/src/app is gone (--prune removes its keys)");
        request.prune = true;
        seen = run(member.api, request);
        CHECK(seen[0].kind == ResyncKind::orphaned);
        const auto stored = member.server.stored("configmaps", "t", "app");
        REQUIRE(stored);
        CHECK(stored->data == Strings{{"own", "mine"}});
        CHECK(stored->annotations.count("cmsync.io/sync-from-cluster") == 0);
    }
}
