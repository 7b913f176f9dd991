#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/api_client.hpp"
#include "rules/sync_config.hpp"
#include "watch/watcher.hpp"

namespace cmsync {

/// `watch`: a Watcher per rule, each on a thread of its own, all on one ApiClient (so every
/// stream shares the one multiplexed connection). `apply` brings the running rules in line
/// with a new set: rules removed or changed stop (their copies stay, said once in the log),
/// new or changed ones start; the others keep running untouched. The positional form is one
/// rule without a name.
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
    /// each named rule suffixes with ".RULE"); its spec is unused.
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
    /// Calls `f` for each rule (by its label: its name, or its source namespace for the
    /// unnamed rule) with its watcher, or nullptr when it is not running now (it
    /// failed and waits to try again, or is starting); `failed`: it has failed at least once.
    /// Holds a lock: `f` must only read.
    void visit(const std::function<void(const std::string& rule, const Watcher* watcher,
                                        bool failed)>& f) const;
    /// A named rule as it runs now: what its rule object's status says.
    struct RuleRun {
        std::string name;
        const Watcher* watcher = nullptr;  ///< not running now: it failed, or is starting
        std::string failure;               ///< why it last failed to run ("": it did not)
        int failure_code = 0;              ///< the HTTP status of that failure, if any
        /// When its watcher last started (or the rule, while it has none).
        std::chrono::steady_clock::time_point since;
    };
    /// Calls `f` for each named rule; holds a lock: `f` must only read.
    void each_rule(const std::function<void(const RuleRun&)>& f) const;

  private:
    struct Running {
        Rule rule;
        std::string fingerprint;
        std::atomic<bool> stop{false};
        std::thread thread;
        Watcher* watcher = nullptr;  // guarded by mutex_
        bool failed = false;         // guarded by mutex_
        std::string failure;         // guarded by mutex_: the last failure, cleared on start
        int failure_code = 0;        // guarded by mutex_
        std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();  // mutex_
    };
    void run(Running& r);
    WatchConfig config_for(const Rule& rule) const;
    /// `line` for the log, prefixed with the rule's name when it has one.
    void log(const Rule& rule, const std::string& line) const;

    kube::ApiClient& api_;
    WatchConfig base_;
    ActionSink on_action_;
    LogSink log_;
    OnFailure on_failure_;
    mutable std::mutex mutex_;
    std::list<std::unique_ptr<Running>> rules_;
    std::exception_ptr failure_;  // guarded by mutex_
};

}  // namespace cmsync
