#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controller/controller_metrics.hpp"
#include "controller/event_recorder.hpp"
#include "controller/health_server.hpp"
#include "controller/leader_election.hpp"
#include "controller/metrics.hpp"
#include "controller/watcher_status.hpp"
#include "http/client.hpp"
#include "kube/api_client.hpp"
#include "watch/watch_action.hpp"

namespace cmsync::controller {

/// The in-cluster parts of `watch`, as its flags ask for them; nothing set: the CLI as before.
struct WatchControllerConfig {
    /// Lease-based leader election (its identity is made here); nothing: every replica writes.
    std::optional<LeaderElectionConfig> election;  ///< namespace_name empty: attach()'s
    std::string metrics_bind_address;              ///< empty: no /healthz, /readyz, /metrics
    bool record_events = false;
    std::string version;  ///< cmsync_build_info's label
};

/// The in-cluster parts of `watch`: leader election, /healthz /readyz /metrics, Events, and
/// the bookkeeping between them and the watchers (health from their statuses, metrics from
/// their statuses and actions, Events from actions). Build it before the connection (its
/// metrics observe every request), attach() the connection, observe() the watchers once they
/// exist, then start().
class WatchController {
  public:
    using LogSink = std::function<void(const std::string&)>;
    /// A client of the connection whose requests give up after `budget`: a Lease round must not
    /// outlast the renew deadline, and Events are best effort.
    using ApiWithBudget = std::function<kube::ApiClient&(std::chrono::milliseconds budget)>;

    /// Throws UsageError for timings client-go refuses (lease duration > renew deadline > 1.2 x
    /// retry period) or a bad bind address.
    WatchController(WatchControllerConfig config, LogSink log);
    ~WatchController();
    WatchController(const WatchController&) = delete;
    WatchController& operator=(const WatchController&) = delete;

    /// Every request attempt, for the latency histogram (nullptr without metrics).
    http::RequestObserver request_observer();
    /// Makes the Lease candidate (in `default_namespace` unless the config names one: the
    /// pod's own) and the Event recorder, on clients `api` returns (which must outlive this).
    void attach(const ApiWithBudget& api, const std::string& default_namespace);
    /// The gate for WriteOptions::write_gate; nullptr without leader election.
    WriteGate write_gate();
    /// Metrics and Events for one action of rule `rule` ("" for the CLI form).
    void on_action(const std::string& rule, const WatchAction& action);
    /// What health and metrics read of the watchers from now on.
    void observe(StatusSource watchers);
    /// Serves health and metrics (when asked for) and starts the Lease rounds.
    void start();
    /// /healthz: no watcher is stuck.
    bool alive() const;
    /// /readyz: every watcher that could start has had its first lists, and every named
    /// cluster can be reached.
    bool ready() const;
    /// /readyz's body when not ready: a line per cluster that cannot be reached, naming it.
    std::string not_ready_detail() const;
    /// /metrics: the registry rendered after the watchers' figures are taken in; empty without
    /// metrics.
    std::string metrics();
    /// Held the Lease and missed the renew deadline: the process must end non-zero.
    bool lost() const;
    /// Releases the Lease (after the watchers stopped), flushes Events, stops serving.
    /// Idempotent.
    void stop();

  private:
    std::vector<WatcherStatus> statuses() const;
    void collect();

    WatchControllerConfig config_;
    LogSink log_;
    std::string lease_id_;
    std::unique_ptr<Registry> registry_;
    std::unique_ptr<ControllerMetrics> metrics_;
    std::unique_ptr<LeaderElection> election_;
    std::unique_ptr<EventRecorder> events_;
    std::unique_ptr<HealthServer> server_;
    StatusSource watchers_;
    std::mutex collect_mutex_;
    /// (rule, cluster) -> the watch restarts and relists counted so far of its running Watcher
    std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::uint64_t>> counted_;
    std::set<std::string> copies_counted_;  ///< clusters cmsync_copies_managed has a series of
};

}  // namespace cmsync::controller
