#include "controller/watcher_status.hpp"

#include <set>

namespace cmsync::controller {

WatcherStatus status_of(const RuleWatchers::UnitState& unit) {
    WatcherStatus s;
    s.rule = unit.rule;
    s.cluster = unit.cluster;
    s.failed = unit.failed;
    if (!unit.unreachable.empty()) {
        s.unreachable.push_back(unit.unreachable);
    }
    const auto* watcher = unit.watcher;
    if (watcher == nullptr) {
        return s;
    }
    s.unreachable = watcher->unreachable();
    const auto& stats = watcher->stats();
    s.running = true;
    s.ready = watcher->ready();
    s.last_beat = watcher->last_beat();
    s.watch_restarts = stats.watch_restarts.load();
    s.relists = stats.relists.load();
    s.last_sync_unix_ms = stats.last_sync_unix_ms.load();
    s.copies_managed = watcher->copies_managed();
    return s;
}

std::vector<WatcherStatus> statuses_of(const RuleWatchers& rules) {
    std::vector<WatcherStatus> statuses;
    rules.visit([&](const RuleWatchers::UnitState& unit) { statuses.push_back(status_of(unit)); });
    return statuses;
}

bool watchers_alive(const std::vector<WatcherStatus>& watchers,
                    std::chrono::steady_clock::time_point now) {
    for (const auto& w : watchers) {
        if (w.running && w.last_beat.time_since_epoch().count() != 0 &&
            now - w.last_beat > kStuckAfter) {
            return false;
        }
    }
    return true;
}

bool watchers_ready(const std::vector<WatcherStatus>& watchers) {
    for (const auto& w : watchers) {
        if ((!w.failed && (!w.running || !w.ready)) || !w.unreachable.empty()) {
            return false;
        }
    }
    return true;
}

std::vector<std::string> unreachable_clusters(const std::vector<WatcherStatus>& watchers) {
    std::set<std::string> lines;
    for (const auto& w : watchers) {
        lines.insert(w.unreachable.begin(), w.unreachable.end());
    }
    return {lines.begin(), lines.end()};
}

}  // namespace cmsync::controller
