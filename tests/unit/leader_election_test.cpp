#include <doctest/doctest.h>

#include <utility>

#include "controller/leader_elector.hpp"
#include "error.hpp"
#include "kube/api_error.hpp"

namespace cmsync::controller {

namespace {

using Clock = LeaderElector::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A Lease store that behaves as the API server does: resourceVersion preconditions on update,
// AlreadyExists on create; counts requests.
struct FakeStore {
    std::optional<kube::Lease> lease;
    int rv = 0;
    int gets = 0;
    int updates = 0;
    bool fail = false;
    std::function<void()> before_update;  ///< runs once, at the next update

    kube::Lease stored(kube::Lease l) {
        l.resource_version = std::to_string(++rv);
        lease = l;
        return l;
    }
    LeaseStore store() {
        return {[this] {
                    ++gets;
                    if (fail) {
                        throw Error("connection refused");
                    }
                    return lease;
                },
                [this](const kube::Lease& l) {
                    if (fail || lease) {
                        throw ApiError(409, "AlreadyExists", "exists");
                    }
                    return stored(l);
                },
                [this](const kube::Lease& l) {
                    if (auto hook = std::exchange(before_update, nullptr)) {
                        hook();
                    }
                    ++updates;
                    if (fail || !lease || l.resource_version != lease->resource_version) {
                        throw ApiError(409, "Conflict", "stale");
                    }
                    return stored(l);
                }};
    }
    // Another candidate writes the Lease (a renewal when `holder` already holds it).
    void write_by(const std::string& holder, int duration = 15) {
        kube::Lease l;
        l.namespace_name = "cmsync-system";
        l.name = "kubectl-cmsync";
        l.record.holder = holder;
        l.record.lease_duration_seconds = duration;
        l.record.renew_time = "t" + std::to_string(rv);
        l.record.lease_transitions = lease ? lease->record.lease_transitions : 0;
        stored(l);
    }
};

LeaderElector candidate(FakeStore& fake, const std::string& identity) {
    LeaderElectionConfig config;
    config.namespace_name = "cmsync-system";
    config.identity = identity;
    long long micros = 1'700'000'000'000'000;
    return LeaderElector(config, fake.store(), [micros]() mutable { return micros += 1000; });
}

}  // namespace

TEST_CASE("leader election: client-go's tryAcquireOrRenew") {
    FakeStore fake;
    const auto t0 = Clock::now();

    SUBCASE("no Lease: the first candidate creates it and leads") {
        auto a = candidate(fake, "a");
        CHECK(a.try_acquire_or_renew(t0));
        CHECK(a.is_leader());
        CHECK(fake.lease->record.holder == "a");
        CHECK(fake.lease->record.lease_duration_seconds == 15);
        CHECK(fake.lease->record.lease_transitions == 0);
        CHECK(fake.lease->record.acquire_time == fake.lease->record.renew_time);
    }
    SUBCASE("a held Lease is taken over only after a whole lease duration unchanged") {
        fake.write_by("b");
        auto a = candidate(fake, "a");
        CHECK_FALSE(a.try_acquire_or_renew(t0));
        CHECK(a.holder() == "b");
        CHECK_FALSE(a.try_acquire_or_renew(t0 + milliseconds(14999)));
        CHECK(fake.updates == 0);
        CHECK(a.try_acquire_or_renew(t0 + seconds(15)));
        CHECK(fake.lease->record.holder == "a");
        CHECK(fake.lease->record.lease_transitions == 1);
    }
    SUBCASE("a renewal by the holder restarts the wait (local clock only)") {
        fake.write_by("b");
        auto a = candidate(fake, "a");
        CHECK_FALSE(a.try_acquire_or_renew(t0));
        fake.write_by("b");  // b renews at t0+10 s
        CHECK_FALSE(a.try_acquire_or_renew(t0 + seconds(10)));
        CHECK_FALSE(a.try_acquire_or_renew(t0 + seconds(24)));
        CHECK(a.try_acquire_or_renew(t0 + seconds(25)));
    }
    SUBCASE("a released Lease (no holder) is taken at once") {
        fake.write_by("", 1);
        auto a = candidate(fake, "a");
        CHECK(a.try_acquire_or_renew(t0));
        CHECK(fake.lease->record.holder == "a");
    }
    SUBCASE("the leader renews with the resourceVersion it wrote, without a read") {
        auto a = candidate(fake, "a");
        REQUIRE(a.try_acquire_or_renew(t0));
        const auto acquired = fake.lease->record.acquire_time;
        const int gets = fake.gets;
        CHECK(a.try_acquire_or_renew(t0 + seconds(2)));
        CHECK(fake.gets == gets);
        CHECK(fake.lease->record.acquire_time == acquired);
        CHECK(fake.lease->record.renew_time != acquired);
        CHECK(fake.lease->record.lease_transitions == 0);
    }
    SUBCASE("a leader whose Lease was taken meanwhile learns it by the conflict") {
        auto a = candidate(fake, "a");
        REQUIRE(a.try_acquire_or_renew(t0));
        fake.write_by("b");
        CHECK_FALSE(a.try_acquire_or_renew(t0 + seconds(2)));
        CHECK_FALSE(a.is_leader());
        CHECK(fake.lease->record.holder == "b");
    }
    SUBCASE("two candidates racing for a free Lease: the precondition picks one") {
        fake.write_by("", 1);
        auto a = candidate(fake, "a");
        auto b = candidate(fake, "b");
        // b has read the free Lease when a's update lands
        fake.before_update = [&] { CHECK(a.try_acquire_or_renew(t0)); };
        CHECK_THROWS_AS(b.try_acquire_or_renew(t0), ApiError);
        CHECK_FALSE(b.is_leader());
        CHECK(fake.lease->record.holder == "a");
        CHECK_FALSE(b.try_acquire_or_renew(t0 + seconds(2)));
        CHECK(b.holder() == "a");
    }
    SUBCASE("release leaves no holder, a 1 s duration and the transitions") {
        fake.write_by("b");
        auto a = candidate(fake, "a");
        REQUIRE_FALSE(a.try_acquire_or_renew(t0));
        REQUIRE(a.try_acquire_or_renew(t0 + seconds(15)));
        a.release();
        CHECK(fake.lease->record.holder.empty());
        CHECK(fake.lease->record.lease_duration_seconds == 1);
        CHECK(fake.lease->record.lease_transitions == 1);
        CHECK_FALSE(a.is_leader());
        a.release();  // not the leader any more: nothing is written
        CHECK(fake.lease->record.lease_duration_seconds == 1);
    }
    SUBCASE("an unreachable server fails the round") {
        fake.fail = true;
        auto a = candidate(fake, "a");
        CHECK_THROWS_WITH_AS(a.try_acquire_or_renew(t0), "connection refused", Error);
        CHECK_FALSE(a.is_leader());
    }
}

TEST_CASE("leader election: the write gate ends at the renew deadline") {
    const auto t0 = Clock::now();
    LeadershipTerm term(seconds(10));
    CHECK_FALSE(term.may_write(t0));
    CHECK_FALSE(term.lost(t0));
    term.renewed(t0);
    CHECK(term.may_write(t0 + milliseconds(9999)));
    CHECK_FALSE(term.lost(t0 + milliseconds(9999)));
    CHECK_FALSE(term.may_write(t0 + seconds(10)));
    CHECK(term.lost(t0 + seconds(10)));
    term.renewed(t0 + seconds(2));
    CHECK(term.may_write(t0 + seconds(11)));
    // Every write is bounded by the end of the term: made by then, or not at all.
    CHECK(term.write_until(t0 + seconds(5)) == t0 + seconds(12));
    CHECK(term.write_until(t0 + seconds(12)) == std::nullopt);
    term.ended();
    CHECK(term.write_until(t0 + seconds(5)) == std::nullopt);
    CHECK_FALSE(term.may_write(t0 + seconds(3)));
    CHECK_FALSE(term.lost(t0 + seconds(30)));
}

TEST_CASE("leader election: Lease JSON") {
    kube::Lease lease;
    lease.namespace_name = "cmsync-system";
    lease.name = "kubectl-cmsync";
    lease.resource_version = "42";
    lease.record = {"pod-1_ab", 15, "2026-11-29T08:00:00.000001Z", "2026-11-29T08:00:02.000000Z",
                    3};
    const auto back = kube::lease_from_json(kube::lease_to_json(lease));
    CHECK(back.record == lease.record);
    CHECK(back.resource_version == "42");
    CHECK(kube::micro_time(1'796'025'600'000'007) == "2026-11-30T08:00:00.000007Z");
    CHECK_THROWS_WITH_AS(kube::lease_from_json(R"({"kind":"Status"})"), "expected a Lease", Error);
    SUBCASE("a holder with a NUL survives a write (found by fuzzing, issue 17)") {
        lease.record.holder = std::string("pod\0x", 5);
        CHECK(kube::lease_from_json(kube::lease_to_json(lease)).record.holder ==
              lease.record.holder);
    }
}

}  // namespace cmsync::controller
