#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

#include "connection.hpp"
#include "controller/controller_metrics.hpp"
#include "controller/event_recorder.hpp"
#include "controller/health_server.hpp"
#include "controller/leader_election.hpp"
#include "controller/metrics.hpp"
#include "controller/rule_watchers.hpp"
#include "global_options.hpp"

namespace cmsync::cli {

/// `watch` flags for running it as a controller in the cluster; none set: the CLI as before.
struct ControllerOptions {
    bool leader_elect = false;
    std::string lease_namespace;  ///< empty: the pod's own (the config's namespace)
    std::string lease_name = "kubectl-cmsync";
    std::string lease_duration = "15s";
    std::string renew_deadline = "10s";
    std::string retry_period = "2s";
    std::string metrics_bind_address;
    bool record_events = false;
};

void add_controller_options(CLI::App& watch, ControllerOptions& options);

/// What a controller sees of the watchers: each rule (or the one watch) with its Watcher, or
/// nullptr when it is not running; `failed` when it has failed to start at least once.
using WatcherVisitor =
    std::function<void(const std::function<void(const std::string&, const Watcher*, bool)>&)>;

/// The in-cluster parts of `watch`: leader election, /healthz /readyz /metrics, Events.
/// Build it before the Connection (its metrics observe every request), attach() the
/// connection, then start() once the watchers exist.
class WatchController {
  public:
    using LogSink = std::function<void(const std::string&)>;
    /// Throws UsageError for bad durations (client-go's rules: lease > renew deadline >
    /// 1.2 x retry period).
    WatchController(const ControllerOptions& options, LogSink log);
    ~WatchController();

    /// Every request attempt, for the latency histogram (nullptr without metrics).
    http::RequestObserver request_observer();
    /// Makes the Lease candidate and the Event recorder on `connection`.
    void attach(Connection& connection);
    /// The write gate for WriteOptions::may_write; nullptr without leader election.
    std::function<bool()> write_gate();
    /// Metrics and Events for one action of rule `rule` ("" for the CLI form).
    void on_action(const std::string& rule, const WatchAction& action);
    /// Serves health and metrics for `watchers` and starts the Lease rounds.
    void start(WatcherVisitor watchers);
    /// Held the Lease and missed the renew deadline: the process must end non-zero.
    bool lost() const;
    /// Releases the Lease (after the watchers stopped), flushes Events, stops serving.
    void stop();

  private:
    void collect();
    bool alive() const;
    bool ready() const;

    ControllerOptions options_;
    LogSink log_;
    std::string lease_id_;
    controller::LeaderElectionConfig election_config_;
    std::unique_ptr<controller::Registry> registry_;
    std::unique_ptr<controller::ControllerMetrics> metrics_;
    std::unique_ptr<controller::LeaderElection> election_;
    std::unique_ptr<controller::EventRecorder> events_;
    std::unique_ptr<controller::HealthServer> server_;
    WatcherVisitor watchers_;
    std::mutex collect_mutex_;
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> counted_;  ///< restarts, relists
};

}  // namespace cmsync::cli
