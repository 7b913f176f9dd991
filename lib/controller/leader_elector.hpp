#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "kube/lease.hpp"

namespace cmsync::controller {

/// client-go's timings (tools/leaderelection): a holder that has not renewed for
/// `lease_duration` may be replaced; the holder gives up when `renew_deadline` passes
/// without a renewal, which is before anyone else may take over.
struct LeaderElectionConfig {
    std::string namespace_name;
    std::string name = "kubectl-cmsync";
    std::string identity;
    std::chrono::milliseconds lease_duration{15000};
    std::chrono::milliseconds renew_deadline{10000};
    std::chrono::milliseconds retry_period{2000};
};

/// Where the Lease lives: the API server, or a fake in tests. Each call throws on failure
/// (ApiError 409 for a stale resourceVersion or an existing Lease).
struct LeaseStore {
    std::function<std::optional<kube::Lease>()> get;
    std::function<kube::Lease(const kube::Lease&)> create;
    std::function<kube::Lease(const kube::Lease&)> update;
};

/// One candidate's view of the Lease, and client-go's tryAcquireOrRenew on it. A candidate
/// takes over only after it has seen the same record unchanged for a whole lease duration by
/// its own clock, so clock skew between nodes does not matter. Not thread-safe.
class LeaderElector {
  public:
    using Clock = std::chrono::steady_clock;
    /// `unix_micros`: the wall clock, only for the times written into the Lease.
    LeaderElector(LeaderElectionConfig config, LeaseStore store,
                  std::function<long long()> unix_micros);

    /// One round at `now`: creates, renews or takes over the Lease when it may. True when this
    /// candidate holds the Lease afterwards. Store errors propagate (the round failed).
    bool try_acquire_or_renew(Clock::time_point now);
    /// Gives the Lease up when held (empty holder, a 1 s duration), so that a standby takes over
    /// at its next round instead of waiting out the lease.
    void release();
    /// Whether the last record seen names this candidate.
    bool is_leader() const;
    /// The holder of the last record seen (empty: none or released).
    std::string holder() const;
    const LeaderElectionConfig& config() const { return config_; }

  private:
    bool lease_valid(Clock::time_point now) const;
    void observe(const kube::Lease& lease, Clock::time_point now);
    kube::Lease next_lease(const kube::LeaseRecord& old) const;

    LeaderElectionConfig config_;
    LeaseStore store_;
    std::function<long long()> unix_micros_;
    std::optional<kube::Lease> observed_;
    Clock::time_point observed_time_{};
};

/// When a leader may write: from a renewal that started at T until T + renew_deadline. Past
/// that it has lost the lease (as far as it can know) and must stop at once.
class LeadershipTerm {
  public:
    using Clock = std::chrono::steady_clock;
    explicit LeadershipTerm(std::chrono::milliseconds renew_deadline)
        : renew_deadline_(renew_deadline) {}
    /// A round that started at `started` ended holding the Lease.
    void renewed(Clock::time_point started);
    /// The Lease was given up (release) or never held.
    void ended();
    bool may_write(Clock::time_point now) const;
    /// Until when a write may be carried out (the renew deadline of the last renewal), when
    /// it may be made at `now`. Every write is bounded by it: one held up (the server queues
    /// it, the process stalls) must not land after another replica took over.
    std::optional<Clock::time_point> write_until(Clock::time_point now) const;
    /// Held the Lease once and missed the renew deadline since.
    bool lost(Clock::time_point now) const;

  private:
    std::chrono::milliseconds renew_deadline_;
    std::optional<Clock::time_point> last_renewal_;
};

}  // namespace cmsync::controller
