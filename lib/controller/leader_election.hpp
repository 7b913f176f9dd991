#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "controller/leader_elector.hpp"
#include "kube/api_client.hpp"

namespace cmsync::controller {

/// `watch --leader-elect`: a thread that runs LeaderElector rounds every retry period (a
/// standby's wait gets up to 10% jitter). may_write() is the gate every write passes.
class LeaderElection {
  public:
    using LogSink = std::function<void(const std::string&)>;
    /// `on_change(true|false)`: this process became, or stopped being, the leader.
    LeaderElection(kube::ApiClient& api, LeaderElectionConfig config, LogSink log,
                   std::function<void(bool)> on_change = nullptr);
    ~LeaderElection();
    LeaderElection(const LeaderElection&) = delete;
    LeaderElection& operator=(const LeaderElection&) = delete;

    void start();
    /// True while this process holds the Lease and its last renewal is younger than the renew
    /// deadline: checked right before each write.
    bool may_write() const;
    /// The end of this term when it may write now (LeadershipTerm::write_until).
    std::optional<std::chrono::steady_clock::time_point> write_until() const;
    /// Held the Lease and missed the renew deadline: the process must stop (and exit non-zero).
    bool lost() const;
    /// Ends the rounds; then, when this process leads, gives the Lease up for a standby.
    void stop_and_release();
    const std::string& identity() const { return elector_.config().identity; }

  private:
    void run();

    LeaderElector elector_;
    LogSink log_;
    std::function<void(bool)> on_change_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    LeadershipTerm term_;
    std::thread thread_;
};

/// "NAME_" + 10 random hex digits: NAME is $POD_NAME, else the host name (client-go's
/// examples use the host name and a UUID).
std::string leader_identity();

}  // namespace cmsync::controller
