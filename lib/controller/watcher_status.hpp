#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "controller/rule_watchers.hpp"
#include "watch/watcher.hpp"

namespace cmsync::controller {

/// What the controller reads of one watcher (a rule's, or the one watch of the command line),
/// taken at one moment: all /healthz, /readyz and the watcher gauges need.
struct WatcherStatus {
    std::string rule;     ///< the rule's name; the source namespace for the one watch
    std::string cluster;  ///< its target cluster as reports name it ("": the rule names none)
    /// Named clusters it cannot reach now, each "cluster NAME: ERROR".
    std::vector<std::string> unreachable;
    /// Its Watcher runs (false: it failed and waits to try again, or is starting).
    bool running = false;
    bool failed = false;  ///< it has failed to start at least once
    bool ready = false;   ///< every stream has had its first list
    /// When its loop last went round or finished a write; the epoch: not yet.
    std::chrono::steady_clock::time_point last_beat{};
    std::uint64_t watch_restarts = 0;  ///< since this Watcher started
    std::uint64_t relists = 0;         ///< since this Watcher started
    /// Unix ms when a pass over every target last ended without an error; 0: never.
    std::int64_t last_sync_unix_ms = 0;
    std::size_t copies_managed = 0;
};

/// Every watcher's status now.
using StatusSource = std::function<std::vector<WatcherStatus>()>;

/// The status of a unit of RuleWatchers.
WatcherStatus status_of(const RuleWatchers::UnitState& unit);
/// The status of every rule of `rules`.
std::vector<WatcherStatus> statuses_of(const RuleWatchers& rules);

/// A watcher whose loop has not gone round for this long is stuck: /healthz fails, and the
/// kubelet restarts the container. Writes beat too, so a long pass does not count as stuck.
inline constexpr std::chrono::seconds kStuckAfter{60};

/// /healthz: no running watcher is stuck at `now`. One that has not beaten yet is starting.
bool watchers_alive(const std::vector<WatcherStatus>& watchers,
                    std::chrono::steady_clock::time_point now);
/// /readyz: every watcher runs and has had its first lists, except those that failed to start
/// (logged and retried: a rule that cannot start does not hold the others back), and no named
/// cluster is unreachable (a member down is said, by name). A standby is ready too.
bool watchers_ready(const std::vector<WatcherStatus>& watchers);
/// The named clusters that cannot be reached, each once ("cluster NAME: ERROR"), sorted.
std::vector<std::string> unreachable_clusters(const std::vector<WatcherStatus>& watchers);

}  // namespace cmsync::controller
