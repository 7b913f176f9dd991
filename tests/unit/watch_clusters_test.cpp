// watch across clusters (issue 30): a Watcher whose source is in one fake API server and whose
// targets are in another; the copy cache of copies recording another cluster.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "api_fixture.hpp"
#include "error.hpp"
#include "eventually.hpp"
#include "fake_api.hpp"
#include "plan/ownership.hpp"
#include "watch/copy_cache.hpp"
#include "watch/watcher.hpp"

namespace cmsync {

namespace {

using Strings = std::map<std::string, std::string>;

// A copy of hub/src/app in `ns` as a watch or list brings it (resourceVersion `rv`).
kube::Object copy_from(const std::string& ns, const std::string& cluster, const std::string& rv) {
    kube::Object cm;
    cm.namespace_name = ns;
    cm.name = "app";
    cm.resource_version = rv;
    cm.data["k"] = kube::Value{"v", false};
    cm.labels[kManagedLabel] = "true";
    cm.annotations[kSyncFromAnnotation] = "src/app";
    if (!cluster.empty()) {
        cm.annotations[kSyncFromClusterAnnotation] = cluster;
    }
    return cm;
}

constexpr const char* kAccessReview = "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

http::Response review(bool allowed) {
    return http::Response{
        201,
        {},
        fmt::format(R"({{"kind":"SelfSubjectAccessReview","status":{{"allowed":{}}}}})",
                    allowed ? "true" : "false")};
}

WatchConfig member_config(kube::ApiClient& hub) {
    WatchConfig config;
    config.spec.source_namespace = "src";
    config.spec.selection.names = {"app"};
    config.spec.target_namespaces = {"src", "web"};
    config.write.keys = std::vector<std::string>{"k"};
    config.resync_period = std::chrono::milliseconds(0);
    config.scope = WatchScope::namespaces;
    config.source_api = &hub;
    config.cluster = "member-a";
    config.source_cluster = "hub";
    config.write.source_cluster = "hub";
    return config;
}

// A member whose next GET of one copy runs `meanwhile` first, then waits `delay` (1.1 s: slow,
// its link coming back).
class SlowCopyRead : public FakeApi {
  public:
    std::string path;
    std::function<void()> meanwhile;
    std::chrono::milliseconds delay{1100};
    std::atomic<bool> armed{false};

    http::Response send(const http::Request& request) override {
        if (request.method == "GET" && request.url.find(path) != std::string::npos &&
            armed.exchange(false)) {
            meanwhile();
            std::this_thread::sleep_for(delay);
        }
        return FakeApi::send(request);
    }
};

// A hub whose watches stay open until cancelled, and send what the test delivers.
class HubWatches : public FakeApi {
  public:
    void open_stream(const http::Request&, http::BodySink sink, http::CancelCheck cancelled,
                     http::StreamEnded ended) override {
        std::lock_guard lock(mutex_);
        open_.push_back({std::move(sink), std::move(cancelled), std::move(ended)});
    }
    void wake_streams() override {
        std::vector<Open> done;
        {
            std::lock_guard lock(mutex_);
            const auto it = std::stable_partition(open_.begin(), open_.end(),
                                                  [](const Open& o) { return !o.cancelled(); });
            done.assign(std::make_move_iterator(it), std::make_move_iterator(open_.end()));
            open_.erase(it, open_.end());
        }
        for (auto& o : done) {
            o.ended({200, {}, ""}, nullptr);
        }
    }
    /// Sends `line` on every open watch; how many there were.
    std::size_t deliver(const std::string& line) {
        std::lock_guard lock(mutex_);
        for (auto& o : open_) {
            o.sink(line);
        }
        return open_.size();
    }

  private:
    struct Open {
        http::BodySink sink;
        http::CancelCheck cancelled;
        http::StreamEnded ended;
    };
    std::mutex mutex_;
    std::vector<Open> open_;
};

// hub/src/app with data k=`value` at resourceVersion `rv`, as stored and as a watch sends it.
std::string source_at(const std::string& value, const std::string& rv) {
    auto json = configmap_json("src", "app", {{"k", value}});
    const std::string meta = "\"metadata\":{";
    json.insert(json.find(meta) + meta.size(), "\"resourceVersion\":\"" + rv + "\",");
    return json;
}

// A member with namespace web, whose first create there fails (503), and whose GET of the
// copy web/app is the one SlowCopyRead makes slow.
void member_whose_first_write_fails(SlowCopyRead& member) {
    member.add_namespace("web", {});
    member.script(kAccessReview, review(true));
    member.script(kAccessReview, review(true));
    member.script("POST /api/v1/namespaces/web/configmaps?fieldManager=kubectl-cmsync",
                  status(503, "ServiceUnavailable", "member restarting"));
    member.path = "/api/v1/namespaces/web/configmaps/app";
}

// Watches hub/src/app into the member's web (the slow read armed) until the copy exists, then
// `settle` more, and stops.
void watch_until_copied(kube::ApiClient& hub, ApiFixture<SlowCopyRead>& member,
                        std::chrono::milliseconds settle) {
    member.server.armed = true;
    auto config = member_config(hub);
    config.spec.target_namespaces = {"web"};
    std::atomic<bool> stop{false};
    Watcher watcher(
        member.api, config, [](const WatchAction&) {}, [](const std::string&) {});
    std::thread run([&] { watcher.run(stop); });
    // a retry's backoff (0.8-1.6 s) and the read: seconds, more under sanitizers on a busy machine
    CHECK(eventually([&] { return member.server.stored("configmaps", "web", "app").has_value(); },
                     std::chrono::seconds(20)));
    std::this_thread::sleep_for(settle);
    stop = true;
    run.join();
}

// The writes of the member other than access reviews.
std::vector<std::string> copy_writes(const FakeApi& member) {
    std::vector<std::string> out;
    for (const auto& line : member.write_lines()) {
        if (line != kAccessReview) {
            out.push_back(line);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("copy cache across clusters: a copy is ours when it records the source's cluster") {
    const struct {
        const char* row;
        const char* cache_cluster;
        const char* copy_cluster;
        bool kept;
    } rows[] = {
        {"same cluster, recorded none", "", "", true},
        {"same cluster, recorded another", "", "hub", false},
        {"from the hub, recorded the hub", "hub", "hub", true},
        {"from the hub, recorded none: the member's own source", "hub", "", false},
        {"from the hub, recorded another cluster", "hub", "member-b", false},
    };
    for (const auto& row : rows) {
        SUBCASE(row.row) {
            CopyCache cache("src", kube::kConfigMap, row.cache_cluster);
            cache.from_list("web", "app", copy_from("web", row.copy_cluster, "1"));
            CHECK(cache.find("web", "app").has_value() == row.kept);
            CHECK(cache.has_copy("web", "app") == row.kept);
        }
    }
}

TEST_CASE("watch across clusters: the source read from its cluster, copies written in the other") {
    ApiFixture<FakeApi> hub;
    ApiFixture<FakeApi> member;
    hub.server.add("configmaps", configmap_json("src", "app", {{"k", "v"}, {"other", "x"}}));
    // The member has a src namespace of its own: a target there, not the source.
    member.server.add_namespace("src", {});
    member.server.add_namespace("web", {});
    member.server.add("configmaps", configmap_json("web", "app", {{"own", "mine"}}));
    member.server.add("configmaps", configmap_json("src", "app", {{"k", "member's own"}}));
    for (int i = 0; i < 4; ++i) {  // list and watch, in src and web
        member.server.script(kAccessReview, review(true));
    }
    const auto config = member_config(hub.api);
    std::mutex mutex;
    std::vector<std::string> actions;
    std::atomic<bool> stop{false};
    Watcher watcher(
        member.api, config,
        [&](const WatchAction& a) {
            std::lock_guard guard(mutex);
            actions.push_back(a.cluster + "/" + a.target.str() + " " + to_string(a.action));
        },
        [](const std::string&) {});
    std::thread run([&] { watcher.run(stop); });
    CHECK(eventually([&] {
        const auto copy = member.server.stored("configmaps", "web", "app");
        return copy && copy->data.count("k") != 0;
    }));
    CHECK(eventually([&] {
        std::lock_guard guard(mutex);
        return actions.size() == 2;
    }));
    stop = true;
    run.join();
    const auto copy = member.server.stored("configmaps", "web", "app");
    REQUIRE(copy);
    CHECK(copy->data == Strings{{"k", "v"}, {"own", "mine"}});
    CHECK(copy->annotations.at(kSyncFromAnnotation) == "src/app");
    CHECK(copy->annotations.at(kSyncFromClusterAnnotation) == "hub");
    // the member's own src/app is not the hub's: a conflict (not ours), left as it was
    CHECK(member.server.stored("configmaps", "src", "app")->data == Strings{{"k", "member's own"}});
    std::sort(actions.begin(), actions.end());
    CHECK(actions ==
          std::vector<std::string>{"member-a/src/app drift", "member-a/web/app updated"});
    CHECK(watcher.copies_managed() == 1);
    // the hub was read, never written, and never asked for a target
    CHECK(hub.server.write_lines().empty());
    for (const auto& line : hub.server.lines()) {
        CHECK(line.find("/namespaces/web/") == std::string::npos);
    }
    CHECK(watcher.unreachable().empty());
}

}  // namespace cmsync

namespace cmsync {

TEST_CASE("watch across clusters: a member where the targets may not be read fails at once") {
    ApiFixture<FakeApi> hub;
    ApiFixture<FakeApi> member;
    hub.server.add("configmaps", configmap_json("src", "app", {{"k", "v"}}));
    member.server.add_namespace("src", {});
    member.server.add_namespace("web", {});
    member.server.script(kAccessReview, review(true));
    member.server.script(kAccessReview, review(true));
    member.server.script(kAccessReview, review(false));
    member.server.script(kAccessReview, review(false));
    auto config = member_config(hub.api);
    config.run.concurrency = 1;  // src first, then web
    Watcher watcher(
        member.api, config, [](const WatchAction&) {}, [](const std::string&) {});
    CHECK_THROWS_WITH_AS(watcher.begin(),
                         "cluster member-a: not allowed to list and watch configmaps in "
                         "namespace \"web\" (check RBAC)",
                         ApiError);
    for (const auto& line : member.server.write_lines()) {
        CHECK(line == kAccessReview);
    }
    CHECK(hub.server.lines().empty());  // the source is not read for a member that cannot run
}

TEST_CASE(
    "watch across clusters: a copy whose read was slow is written from the source as it "
    "is now, once") {
    // The member's first write fails; the retry reads the copy afresh, slowly, and the source
    // changes on the hub meanwhile (its event would wait for the loop): the copy must get the
    // new version, not the one the pass began with and then the new one.
    ApiFixture<FakeApi> hub;
    ApiFixture<SlowCopyRead> member;
    hub.server.add("configmaps", configmap_json("src", "app", {{"k", "v1"}}));
    member_whose_first_write_fails(member.server);
    member.server.meanwhile = [&] {
        hub.server.add("configmaps", configmap_json("src", "app", {{"k", "v2"}}));
    };
    watch_until_copied(hub.api, member, std::chrono::milliseconds(0));
    CHECK_FALSE(member.server.armed);  // the retry read the copy (slowly)
    CHECK(member.server.stored("configmaps", "web", "app")->data == Strings{{"k", "v2"}});
    CHECK(copy_writes(member.server).size() == 2);  // the failed create, then one (from v2)
    // the hub's source was read at the start and once again, after the slow read
    const auto hub_lines = hub.server.lines();
    CHECK(std::count(hub_lines.begin(), hub_lines.end(),
                     "GET /api/v1/namespaces/src/configmaps/app") == 2);
}

TEST_CASE("watch across clusters: a change queued while a pass ran is written with it, once") {
    // As the soak found: the loop busy with another source's retry while the member came back;
    // the pass that follows reads the member's copy at once, but the source's change waits in
    // the queue. The pass must write the queued version (read again), and the queued event
    // then finds the copy in step: one write, not the old version and then the new one.
    ApiFixture<HubWatches> hub;
    ApiFixture<SlowCopyRead> member;
    hub.server.add("configmaps", source_at("v1", "800"));
    member_whose_first_write_fails(member.server);
    member.server.delay = std::chrono::milliseconds(0);  // a quick read: only the queue tells
    std::atomic<std::size_t> delivered{0};
    member.server.meanwhile = [&] {
        hub.server.add("configmaps", source_at("v2", "900"));
        delivered =
            hub.server.deliver(R"({"type":"MODIFIED","object":)" + source_at("v2", "900") + "}\n");
    };
    watch_until_copied(hub.api, member, std::chrono::milliseconds(500));  // the event handled
    CHECK(delivered == 1);  // the source's watch was open and got the change
    CHECK(member.server.stored("configmaps", "web", "app")->data == Strings{{"k", "v2"}});
    CHECK(copy_writes(member.server).size() == 2);  // the failed create, then one (from v2)
}

}  // namespace cmsync
