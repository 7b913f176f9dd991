// EventRecorder against a fake API server: what it sends, and that failures stay quiet.
#include "controller/event_recorder.hpp"
#include "api_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <map>
#include <thread>

using namespace cmsync;
using namespace cmsync::controller;
using namespace std::chrono_literals;

namespace {

using FakeApi = RecordingApi;

http::Response status(long code, const char* reason) {
    return http::Response{
        code, {}, fmt::format(R"({{"kind":"Status","code":{},"reason":"{}"}})", code, reason)};
}

struct Fixture : ApiFixture<FakeApi> {
    std::mutex mutex;
    std::map<std::string, int> counts;
    std::vector<std::string> logs;
    std::atomic<int> clock{0};  ///< seconds after the epoch the recorder sees

    EventRecorderOptions options() {
        EventRecorderOptions o;
        o.reporting_instance = "me";
        o.tick = 100ms;
        o.now = [this] { return EventTime{} + std::chrono::seconds(clock.load()); };
        o.count = [this](std::string_view r) {
            std::lock_guard lock(mutex);
            ++counts[std::string(r)];
        };
        o.log = [this](const std::string& line) {
            std::lock_guard lock(mutex);
            logs.push_back(line);
        };
        return o;
    }
};

EventOccurrence drift(const std::string& ns = "team-a", const std::string& name = "app") {
    return EventOccurrence{{ns, name, "uid-1", ""}, EventType::normal, "Drift", "Sync", "fixed"};
}

}  // namespace

TEST_CASE("recorder: one POST, then the series as a merge patch at stop") {
    Fixture f;
    EventRecorder recorder(f.api, f.options());
    recorder.record(drift());
    f.clock = 1;
    recorder.record(drift());
    f.clock = 2;
    recorder.record(drift());
    recorder.stop();
    const auto requests = f.server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].url == "https://s/apis/events.k8s.io/v1/namespaces/team-a/events");
    CHECK(requests[0].body.find(R"("reason":"Drift")") != std::string::npos);
    CHECK(requests[1].method == "PATCH");
    CHECK(requests[1].url.rfind("https://s/apis/events.k8s.io/v1/namespaces/team-a/events/app.",
                                0) == 0);
    CHECK(requests[1].body ==
          R"({"series":{"count":3,"lastObservedTime":"1970-01-01T00:00:02.000000Z"}})");
    CHECK(f.counts["posted"] == 2);
}

TEST_CASE("recorder: a patched Event that is gone is created again with its series") {
    Fixture f;
    f.server.answer = [](const http::Request& r) {
        return r.method == "PATCH" ? status(404, "NotFound") : http::Response{201, {}, "{}"};
    };
    EventRecorder recorder(f.api, f.options());
    recorder.record(drift());
    recorder.record(drift());
    recorder.stop();
    const auto requests = f.server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[1].method == "PATCH");
    CHECK(requests[2].method == "POST");
    CHECK(requests[2].body.find(R"("series":{"count":2,)") != std::string::npos);
    CHECK(f.counts["posted"] == 2);
    CHECK(f.counts["failed"] == 0);
}

TEST_CASE("recorder: 403 is logged once per namespace and reason, counted every time") {
    Fixture f;
    f.server.answer = [](const http::Request&) { return status(403, "Forbidden"); };
    EventRecorder recorder(f.api, f.options());
    recorder.record(drift("team-a", "one"));
    recorder.record(drift("team-a", "two"));
    recorder.record(drift("team-b", "one"));
    recorder.stop();
    CHECK(f.counts["failed"] == 3);
    REQUIRE(f.logs.size() == 2);
    CHECK(f.logs[0].find("cannot record Events in namespace \"team-a\" (Forbidden)") == 0);
    CHECK(f.logs[1].find("namespace \"team-b\"") != std::string::npos);
}

TEST_CASE("recorder: a full queue drops and counts; record after stop drops") {
    Fixture f;
    auto options = f.options();
    options.max_queue = 0;
    EventRecorder recorder(f.api, options);
    recorder.record(drift());
    CHECK(f.counts["dropped"] == 1);
    recorder.stop();
    recorder.record(drift());
    CHECK(f.counts["dropped"] == 2);
    CHECK(f.server.requests().empty());
}

TEST_CASE("recorder: stop is bounded however slow the server") {
    Fixture f;
    f.server.delay = 150ms;
    EventRecorder recorder(f.api, f.options());
    for (int i = 0; i < 20; ++i) {
        recorder.record(drift("team-a", "app-" + std::to_string(i)));
    }
    const auto start = std::chrono::steady_clock::now();
    recorder.stop();
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(f.counts["posted"] + f.counts["dropped"] == 20);
    CHECK(f.counts["dropped"] > 0);
}
