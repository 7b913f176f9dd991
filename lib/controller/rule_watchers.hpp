#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/cluster_clients.hpp"
#include "controller/rule_units.hpp"
#include "kube/api_client.hpp"
#include "rules/sync_config.hpp"
#include "watch/watcher.hpp"

namespace cmsync {

/// `watch`: a Watcher per rule, all on one ApiClient per cluster (so every stream of a cluster
/// shares its one multiplexed connection), and all on a few driver threads: a thousand rules
/// cost a thousand watchers, not a thousand threads. A rule that names clusters has a Watcher
/// per target cluster (RuleUnit), each failing, retrying and catching up on its own. `apply` brings
/// the running rules in line with a new set: rules removed or changed stop (their copies stay, said
/// once in the log), new or changed ones start; the others keep running untouched. The positional
/// form is one rule without a name.
class RuleWatchers {
  public:
    /// An action of rule `rule`'s watcher.
    using ActionSink = std::function<void(const std::string& rule, const WatchAction&)>;
    using LogSink = std::function<void(const std::string&)>;
    /// What a rule whose watcher fails (its source namespace unreadable, the server away)
    /// does: try again after a while, the other rules going on (a rules file), or stop, kept
    /// for failure() (the positional form: the user sees the error and the exit code).
    enum class OnFailure { retry, stop };

    /// `base`: how every rule runs (writes, resync period, scope, and a state file path that
    /// each unit suffixes: unit_state_file); its spec is unused. `clusters` gives each
    /// cluster's client (and must outlive this). A unit of a rule naming clusters always tries
    /// again after a failure (an unreachable or forbidden cluster fails alone).
    RuleWatchers(ClusterClients& clusters, WatchConfig base, ActionSink on_action, LogSink log,
                 OnFailure on_failure = OnFailure::retry);
    /// Every rule in the cluster of `api`.
    RuleWatchers(kube::ApiClient& api, WatchConfig base, ActionSink on_action, LogSink log,
                 OnFailure on_failure = OnFailure::retry);
    ~RuleWatchers();
    RuleWatchers(const RuleWatchers&) = delete;
    RuleWatchers& operator=(const RuleWatchers&) = delete;

    void apply(const std::vector<Rule>& rules);
    /// Stops every rule: writes in flight are finished and state saved; joins.
    void stop_all();
    /// The names of the rules running, in name order.
    std::vector<std::string> running() const;
    /// With OnFailure::stop: what the first failed watcher threw (null while none failed).
    std::exception_ptr failure() const;
    /// A unit (a rule in one cluster) as it runs now.
    struct UnitState {
        std::string rule;     ///< its name, or its source namespace for the unnamed rule
        std::string cluster;  ///< RuleUnit::cluster
        /// Its watcher, or nullptr when it is not running now (it failed and waits to try
        /// again, or is starting).
        const Watcher* watcher = nullptr;
        bool failed = false;  ///< it has failed at least once
        /// Its last failure, when the server gave no answer ("cluster NAME: ..."); "" else.
        std::string unreachable;
    };
    /// Calls `f` for each unit. Holds a lock: `f` must only read.
    void visit(const std::function<void(const UnitState&)>& f) const;
    /// A named rule as it runs now: what its rule object's status says.
    struct RuleRun {
        std::string name;
        const Watcher* watcher = nullptr;  ///< not running now: it failed, or is starting
        std::string failure;               ///< why it last failed to run ("": it did not)
        int failure_code = 0;              ///< the HTTP status of that failure, if any
        /// When its watcher last started (or the rule, while it has none).
        std::chrono::steady_clock::time_point since;
    };
    /// Calls `f` for each unit of a named rule; holds a lock: `f` must only read.
    void each_rule(const std::function<void(const RuleRun&)>& f) const;

  private:
    struct Running {
        Rule rule;
        std::string fingerprint;
        ClusterRef target;               ///< RuleUnit::target
        std::string cluster;             ///< RuleUnit::cluster
        bool across = false;             ///< RuleUnit::across
        SharedStream* shared = nullptr;  ///< set before its driver gets it, then never changed
        std::atomic<bool> stop{false};
        // Its driver's alone:
        std::unique_ptr<Watcher> owned;
        std::chrono::steady_clock::time_point retry_at{};  ///< when to start again after a failure
        // Guarded by mutex_:
        Watcher* watcher = nullptr;  ///< `owned`, once it runs
        bool failed = false;
        std::string failure;  ///< the last failure, cleared on start
        int failure_code = 0;
        bool unreachable = false;  ///< the last failure was one of no answer
        std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
        bool ended = false;  ///< its driver has let go of it
    };
    /// A thread running the watchers of some rules, one round of each in turn; it waits for
    /// an event of any of them, or for a pass to be due.
    struct Driver {
        std::mutex mutex;  ///< guards the three below
        std::condition_variable woken;
        bool wake = false;
        bool stop = false;
        std::vector<Running*> rules;
        std::thread thread;
    };
    void drive(Driver& d);
    /// One round of `r` on driver `d`: starts, turns or ends its watcher; false once it has
    /// ended (stopped, or failed with OnFailure::stop).
    bool step(Driver& d, Running& r);
    /// Records the exception being handled as r's failure; false when r is to end.
    bool failed(Running& r);
    void publish(Running& r, Watcher* watcher);
    /// Stops these rules and waits until their drivers have let go of them.
    void stop_rules(const std::list<std::unique_ptr<Running>>& rules);
    Driver& next_driver();
    /// Throws what the clusters' clients throw.
    WatchConfig config_for(const Running& r) const;
    /// `line` for the log, prefixed with the rule's name when it has one (and the cluster's).
    void log(const Running& r, const std::string& line) const;

    std::unique_ptr<OneCluster> one_cluster_;  ///< the api-only constructor's
    ClusterClients& clusters_;
    kube::ApiClient& api_;  ///< the process's own cluster's
    WatchConfig base_;
    ActionSink on_action_;
    LogSink log_;
    OnFailure on_failure_;
    /// From kShareFrom ConfigMap rules on, new rules' watchers share one cluster-wide stream
    /// (made, and read, by apply() alone: a driver reads Running::shared).
    std::unique_ptr<SharedStream> shared_;
    std::vector<std::unique_ptr<Driver>> drivers_;  ///< made as rules come, up to kDrivers
    std::size_t next_driver_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable ended_;  ///< with mutex_: a driver let go of a rule
    std::list<std::unique_ptr<Running>> rules_;
    std::exception_ptr failure_;  // guarded by mutex_
};

}  // namespace cmsync
