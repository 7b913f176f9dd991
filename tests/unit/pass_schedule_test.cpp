#include "watch/pass_schedule.hpp"

#include "watch/copy_retries.hpp"

#include <doctest/doctest.h>

using cmsync::PassSchedule;
using namespace std::chrono_literals;

namespace {

const PassSchedule::Clock::time_point t0 = PassSchedule::Clock::time_point{} + 1h;

// Runs the watch loop's part against a schedule: `arrivals` (ms after t0) of one source, each
// pass taking `pass_ms`; returns how many passes (writes per copy) it took.
int passes_for(const std::vector<int>& arrivals, int pass_ms, bool replayed = false) {
    PassSchedule schedule;
    int passes = 0;
    std::size_t next = 0;
    for (auto now = t0; next < arrivals.size() || schedule.next_due(); now += 1ms) {
        while (next < arrivals.size() && t0 + std::chrono::milliseconds(arrivals[next]) <= now) {
            schedule.changed("app", t0 + std::chrono::milliseconds(arrivals[next]), replayed);
            ++next;
        }
        for (const auto& name : schedule.take_due(now)) {
            ++passes;
            // the loop handles nothing else while the pass runs: what arrives meanwhile is seen
            // when it ends, with its own arrival time
            schedule.passed(name, now, now + std::chrono::milliseconds(pass_ms));
            now += std::chrono::milliseconds(pass_ms);
        }
    }
    return passes;
}

std::vector<int> every(int count, int gap_ms, int from = 0) {
    std::vector<int> out;
    for (int i = 0; i < count; ++i) {
        out.push_back(from + i * gap_ms);
    }
    return out;
}

}  // namespace

TEST_CASE("pass schedule: a lone change passes at once") {
    PassSchedule schedule;
    schedule.changed("app", t0, false);
    CHECK(schedule.pending("app"));
    CHECK(schedule.next_due() == t0);
    CHECK(schedule.take_due(t0) == std::vector<std::string>{"app"});
    CHECK_FALSE(schedule.pending("app"));
    CHECK_FALSE(schedule.next_due());
}

TEST_CASE("pass schedule: bursts coalesce to a write at the start and one with the latest") {
    SUBCASE("30 updates in 0.7 s, fast passes") {
        CHECK(passes_for(every(30, 23), 15) == 2);
    }
    SUBCASE("30 updates in 0.7 s, slow passes") {
        CHECK(passes_for(every(30, 23), 300) == 2);
    }
    SUBCASE("a change during the pass is a burst even when changes are far apart") {
        CHECK(passes_for({0, 150, 300}, 400) == 2);
    }
    SUBCASE("an endless burst still writes at least once a second") {
        const int passes = passes_for(every(300, 20), 15);  // 6 s
        CHECK(passes >= 6);
        CHECK(passes <= 8);
    }
}

TEST_CASE("pass schedule: changes at script pace each pass at once (no added latency)") {
    // the bench's watch scenario: the next update comes after every copy was written
    CHECK(passes_for(every(10, 300), 200) == 10);
    PassSchedule schedule;
    schedule.changed("app", t0, false);
    schedule.take_due(t0);
    schedule.passed("app", t0, t0 + 200ms);
    schedule.changed("app", t0 + 300ms, false);
    CHECK(schedule.next_due() == t0 + 300ms);
}

TEST_CASE("pass schedule: what a resumed watch replays waits for the quiet: one pass") {
    CHECK(passes_for({0, 2, 3}, 20, true) == 1);
    PassSchedule schedule;
    schedule.changed("app", t0, true);
    CHECK(schedule.take_due(t0).empty());
    CHECK(schedule.next_due() == t0 + 100ms);
}

TEST_CASE("pass schedule: sources are independent; forget and clear") {
    PassSchedule schedule;
    schedule.changed("a", t0, false);
    schedule.changed("b", t0 + 5ms, true);
    CHECK(schedule.take_due(t0 + 5ms) == std::vector<std::string>{"a"});
    CHECK(schedule.pending("b"));
    schedule.forget("b");
    CHECK_FALSE(schedule.pending("b"));
    schedule.changed("c", t0, false);
    schedule.clear_pending();
    CHECK_FALSE(schedule.next_due());
}

TEST_CASE("copy retries: a failed copy is due after its backoff, once, until settled") {
    using cmsync::CopyRetries;
    namespace kube = cmsync::kube;
    CopyRetries retries;
    const kube::ObjectRef a{"ns-a", "app"};
    const kube::ObjectRef b{"ns-b", "app"};
    retries.failed(a, t0, 0.0);
    retries.failed(b, t0, 0.0);
    CHECK(retries.take_due(t0 + 799ms).empty());
    const auto due = retries.take_due(t0 + 800ms);
    REQUIRE(due.count("app") == 1);
    CHECK(due.at("app") == std::set<std::string>{"ns-a", "ns-b"});
    CHECK(retries.take_due(t0 + 10s).empty());  // handed out: not again before a report
    retries.settled(b);
    retries.failed(a, t0 + 1s, 0.0);  // failed again: the backoff doubles
    CHECK(retries.take_due(t0 + 1s + 1599ms).empty());
    CHECK(retries.take_due(t0 + 1s + 1600ms).at("app") == std::set<std::string>{"ns-a"});
    CHECK(retries.size() == 1);
    retries.forget_namespace("ns-a");
    CHECK(retries.size() == 0);
    retries.failed(a, t0, 0.0);
    retries.forget_name("app");
    CHECK(retries.size() == 0);
}
