// The controller's bookkeeping: health from the watchers' statuses, metrics from their
// statuses and actions, Events from actions. Fake watchers and a fake API; nothing served.
#include "controller/watch_controller.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <mutex>
#include <optional>
#include <sstream>

#include "api_fixture.hpp"
#include "canary.hpp"
#include "error.hpp"
#include "kube/api_error.hpp"
#include "watch_action_fixture.hpp"

namespace cmsync::controller {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using FakeApi = RecordingApi;

WatcherStatus running(const std::string& rule, bool ready = true) {
    WatcherStatus s;
    s.rule = rule;
    s.running = true;
    s.ready = ready;
    return s;
}

WatchControllerConfig with_metrics() {
    WatchControllerConfig c;
    c.metrics_bind_address = "127.0.0.1:0";  // never served: start() is not called
    c.version = "1.2.3";
    return c;
}

// The value of the sample `series` (name and labels as rendered); nothing when absent.
std::optional<std::string> sample(const std::string& text, const std::string& series) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(series + " ", 0) == 0) {
            return line.substr(series.size() + 1);
        }
    }
    return std::nullopt;
}

using testing::action;

}  // namespace

TEST_CASE("watch controller: /healthz fails only for a running watcher stuck for 60 s") {
    const auto now = Clock::now();
    auto w = running("a");
    SUBCASE("no watcher") {
        CHECK(watchers_alive({}, now));
    }
    SUBCASE("went round a moment ago") {
        w.last_beat = now - 1s;
        CHECK(watchers_alive({w}, now));
    }
    SUBCASE("has not gone round yet: starting") {
        CHECK(watchers_alive({w}, now));
    }
    SUBCASE("stuck for over 60 s") {
        w.last_beat = now - 61s;
        CHECK_FALSE(watchers_alive({w}, now));
        CHECK_FALSE(watchers_alive({running("b"), w}, now));
    }
    SUBCASE("not running (failed, waiting to try again): not stuck") {
        w.last_beat = now - 61s;
        w.running = false;
        CHECK(watchers_alive({w}, now));
    }
}

TEST_CASE(
    "watch controller: /readyz waits for every watcher's first lists but not for failed ones") {
    SUBCASE("no watcher") {
        CHECK(watchers_ready({}));
    }
    SUBCASE("every watcher listed") {
        CHECK(watchers_ready({running("a"), running("b")}));
    }
    SUBCASE("one still listing") {
        CHECK_FALSE(watchers_ready({running("a"), running("b", false)}));
    }
    SUBCASE("one starting (no Watcher yet)") {
        auto w = running("b");
        w.running = false;
        CHECK_FALSE(watchers_ready({running("a"), w}));
    }
    SUBCASE("one failed to start: does not hold the others back") {
        WatcherStatus failed;
        failed.rule = "b";
        failed.failed = true;
        CHECK(watchers_ready({running("a"), failed}));
    }
    SUBCASE("a member its streams cannot reach: not ready, the cluster named") {
        auto w = running("b");
        w.cluster = "member-b";
        w.unreachable = {"cluster member-b: cannot reach https://m"};
        CHECK_FALSE(watchers_ready({running("a"), w}));
        CHECK(unreachable_clusters({running("a"), w}) == std::vector<std::string>{w.unreachable});
    }
    SUBCASE("a member unreachable when starting: not ready either, said once") {
        WatcherStatus failed;
        failed.rule = "b";
        failed.cluster = "member-b";
        failed.failed = true;
        failed.unreachable = {"cluster member-b: cannot reach https://m"};
        auto other = failed;
        other.rule = "c";
        CHECK_FALSE(watchers_ready({running("a"), failed, other}));
        CHECK(unreachable_clusters({failed, other}) == failed.unreachable);
    }
}

TEST_CASE("watch controller: /readyz's body names the clusters that cannot be reached") {
    WatchController c(with_metrics(), nullptr);
    auto w = running("web");
    w.cluster = "member-b";
    w.unreachable = {"cluster member-b: cannot reach https://m: Connection refused"};
    c.observe([&] { return std::vector<WatcherStatus>{running("a"), w}; });
    CHECK_FALSE(c.ready());
    CHECK(c.not_ready_detail() == "cluster member-b: cannot reach https://m: Connection refused\n");
}

TEST_CASE("watch controller: health reads the watchers it observes") {
    WatchController c(with_metrics(), nullptr);
    CHECK(c.alive());
    CHECK(c.ready());
    std::vector<WatcherStatus> watchers{running("a", false)};
    c.observe([&] { return watchers; });
    CHECK_FALSE(c.ready());
    watchers[0].ready = true;
    CHECK(c.ready());
    watchers[0].last_beat = Clock::now() - 2min;
    CHECK_FALSE(c.alive());
}

TEST_CASE("watch controller: gauges have a sample from the watchers' first pass") {
    WatchController c(with_metrics(), nullptr);
    auto a = running("a");
    auto b = running("b", false);
    a.copies_managed = 2;
    b.copies_managed = 3;
    std::vector<WatcherStatus> watchers{a, b};
    c.observe([&] { return watchers; });
    SUBCASE("before any pass: copies 0, no time to report") {
        watchers[0].copies_managed = 0;
        watchers[1].copies_managed = 0;
        const auto m = c.metrics();
        CHECK(sample(m, "cmsync_copies_managed") == "0");
        CHECK(m.find("cmsync_last_sync_timestamp_seconds") == std::string::npos);
    }
    SUBCASE("a's first pass done, b still listing") {
        watchers[0].last_sync_unix_ms = 1'700'000'000'500;
        const auto m = c.metrics();
        CHECK(sample(m, "cmsync_last_sync_timestamp_seconds{rule=\"a\"}") == "1700000000.5");
        CHECK_FALSE(sample(m, "cmsync_last_sync_timestamp_seconds{rule=\"b\"}"));
        CHECK(sample(m, "cmsync_copies_managed") == "5");
        CHECK(sample(m, "cmsync_build_info{version=\"1.2.3\"}") == "1");
    }
    SUBCASE("a watcher not running counts no copies") {
        watchers[1].running = false;
        CHECK(sample(c.metrics(), "cmsync_copies_managed") == "2");
    }
    SUBCASE("every counter an alert watches is there at 0") {
        const auto m = c.metrics();
        for (const auto* counter :
             {"cmsync_drift_total", "cmsync_conflicts_total", "cmsync_orphans_total",
              "cmsync_watch_restarts_total", "cmsync_relists_total"}) {
            CAPTURE(counter);
            CHECK(sample(m, counter) == "0");
        }
    }
}

TEST_CASE("watch controller: watch restarts and relists add up; a rule started again counts on") {
    WatchController c(with_metrics(), nullptr);
    auto a = running("a");
    a.watch_restarts = 2;
    a.relists = 1;
    std::vector<WatcherStatus> watchers{a};
    c.observe([&] { return watchers; });
    CHECK(sample(c.metrics(), "cmsync_watch_restarts_total") == "2");
    CHECK(sample(c.metrics(), "cmsync_watch_restarts_total") == "2");  // taken once
    watchers[0].watch_restarts = 3;
    CHECK(sample(c.metrics(), "cmsync_watch_restarts_total") == "3");
    // The rule changed: a new Watcher, its totals from zero.
    watchers[0].watch_restarts = 1;
    watchers[0].relists = 0;
    const auto m = c.metrics();
    CHECK(sample(m, "cmsync_watch_restarts_total") == "4");
    CHECK(sample(m, "cmsync_relists_total") == "1");
}

TEST_CASE("watch controller: counters from actions") {
    WatchController c(with_metrics(), nullptr);
    c.on_action("", action(WatchActionKind::created, OutOfStep::none, WriteVerb::create));
    auto retried = action(WatchActionKind::updated);
    retried.conflicts_retried = 2;
    c.on_action("r", retried);
    c.on_action("r", action(WatchActionKind::drift, OutOfStep::drift));
    c.on_action("r", action(WatchActionKind::drift, OutOfStep::drift));
    c.on_action("r", action(WatchActionKind::drift, OutOfStep::conflict));
    c.on_action("r", action(WatchActionKind::orphaned, OutOfStep::orphaned));
    c.on_action("r", action(WatchActionKind::error, OutOfStep::write_failed, WriteVerb::create));
    const auto m = c.metrics();
    CHECK(sample(m, "cmsync_writes_total{verb=\"create\",result=\"success\"}") == "1");
    CHECK(sample(m, "cmsync_writes_total{verb=\"create\",result=\"error\"}") == "1");
    CHECK(sample(m, "cmsync_writes_total{verb=\"update\",result=\"conflict\"}") == "2");
    CHECK(sample(m, "cmsync_writes_total{verb=\"update\",result=\"success\"}") == "1");
    CHECK(sample(m, "cmsync_drift_total") == "2");
    CHECK(sample(m, "cmsync_conflicts_total") == "1");
    CHECK(sample(m, "cmsync_orphans_total") == "1");
}

TEST_CASE("watch controller: without metrics, no observer and no text") {
    WatchController c(WatchControllerConfig{}, nullptr);
    CHECK_FALSE(c.request_observer());
    CHECK_FALSE(c.write_gate());
    c.on_action("", action(WatchActionKind::drift, OutOfStep::drift));
    CHECK(c.metrics().empty());
}

TEST_CASE("watch controller: Events for what is out of step, none for writes") {
    ApiFixture<FakeApi> fake;
    auto config = with_metrics();
    config.record_events = true;
    WatchController c(config, nullptr);
    c.attach([&](std::chrono::milliseconds) -> kube::ApiClient& { return fake.api; }, "pods-ns");
    c.on_action("", action(WatchActionKind::updated));
    c.on_action("rule-1", action(WatchActionKind::drift, OutOfStep::drift));
    c.stop();
    const auto requests = fake.server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].url == "https://s/apis/events.k8s.io/v1/namespaces/team-a/events");
    CHECK(requests[0].body.find("\"reason\":\"Drift\"") != std::string::npos);
    CHECK(requests[0].body.find("(rule rule-1)") != std::string::npos);
    CHECK(sample(c.metrics(), "cmsync_events_total{result=\"posted\"}") == "1");
}

TEST_CASE("watch controller: a Secret's Events and metrics name the copy and its keys only") {
    ApiFixture<FakeApi> fake;
    auto config = with_metrics();
    config.record_events = true;
    WatchController c(config, nullptr);
    c.attach([&](std::chrono::milliseconds) -> kube::ApiClient& { return fake.api; }, "pods-ns");
    // The detail of a failed write is the error the API client made of the server's answer.
    const auto refused = kube::api_error(
        {"update", "secrets", "app", "team-a", true},
        http::Response{422,
                       {},
                       fmt::format(R"({{"kind":"Status","reason":"Invalid","code":422,)"
                                   R"("message":"data[password]: Invalid value: \"{}\"",)"
                                   R"("details":{{"name":"app","kind":"Secret","causes":[)"
                                   R"({{"reason":"FieldValueInvalid","field":"data[password]",)"
                                   R"("message":"Invalid value: \"{}\""}}]}}}})",
                                   kCanary, kCanary)});
    auto failed = action(WatchActionKind::error, OutOfStep::write_failed);
    failed.kind = kube::kSecret;
    failed.keys = {"password"};
    failed.detail = refused.what();
    auto drift = action(WatchActionKind::drift, OutOfStep::drift);
    drift.kind = kube::kSecret;
    drift.target = {"team-b", "app"};
    drift.keys = {"password"};
    drift.detail = "managed keys in conflict (use --force to overwrite)";
    c.on_action("rule-1", failed);
    c.on_action("rule-1", drift);
    c.stop();
    const auto requests = fake.server.requests();
    REQUIRE(requests.size() == 2);
    for (const auto& r : requests) {
        check_no_canary(r.body);
        CHECK(r.body.find(R"("kind":"Secret")") != std::string::npos);
    }
    CHECK(requests[0].body.find(R"(Secret \"app\" is invalid: data[password]: Invalid value)") !=
          std::string::npos);
    CHECK(requests[1].body.find("managed keys (password) edited here") != std::string::npos);
    check_no_canary(c.metrics());
}

TEST_CASE("watch controller: the leader gauge is 0 from attach() until the Lease is held") {
    ApiFixture<FakeApi> fake;
    auto config = with_metrics();
    config.election.emplace();
    config.election->name = "cmsync";
    WatchController c(config, nullptr);
    c.attach([&](std::chrono::milliseconds) -> kube::ApiClient& { return fake.api; }, "pods-ns");
    CHECK(c.write_gate());
    CHECK_FALSE(c.write_gate()());
    CHECK(sample(c.metrics(), "cmsync_leader_is_leader{lease=\"pods-ns/cmsync\"}") == "0");
    CHECK_FALSE(c.lost());
}

TEST_CASE("watch controller: flags client-go would refuse are usage errors") {
    auto config = with_metrics();
    config.election.emplace();
    SUBCASE("lease duration not above the renew deadline") {
        config.election->lease_duration = 10s;
        CHECK_THROWS_AS(WatchController(config, nullptr), UsageError);
    }
    SUBCASE("renew deadline not above 1.2 x the retry period") {
        config.election->retry_period = 9s;
        CHECK_THROWS_WITH_AS(WatchController(config, nullptr),
                             "--leader-elect-lease-duration must be greater than "
                             "--leader-elect-renew-deadline, which must be greater than 1.2 x "
                             "--leader-elect-retry-period",
                             UsageError);
    }
    SUBCASE("a bind address that is not one") {
        config.election.reset();
        config.metrics_bind_address = "nowhere";
        CHECK_THROWS_AS(WatchController(config, nullptr), UsageError);
    }
}

}  // namespace cmsync::controller
