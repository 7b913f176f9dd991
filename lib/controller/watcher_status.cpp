#include "controller/watcher_status.hpp"

namespace cmsync::controller {

WatcherStatus status_of(const std::string& rule, const Watcher* watcher, bool failed) {
    WatcherStatus s;
    s.rule = rule;
    s.failed = failed;
    if (watcher == nullptr) {
        return s;
    }
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
    rules.visit([&](const std::string& rule, const Watcher* watcher, bool failed) {
        statuses.push_back(status_of(rule, watcher, failed));
    });
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
        if (!w.failed && (!w.running || !w.ready)) {
            return false;
        }
    }
    return true;
}

}  // namespace cmsync::controller
