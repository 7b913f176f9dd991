#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "controller/cluster_rules.hpp"
#include "controller/rule_status.hpp"
#include "controller/rule_watchers.hpp"
#include "kube/api_client.hpp"

namespace cmsync::controller {

/// Writes each ClusterSyncRule's status through its status subresource (a JSON merge patch):
/// only when what it should say differs from what the object says, at most once a second per
/// rule, and only while this replica may write (the leader). The object's own status is what
/// it compares with, so a new leader writes nothing that is already right, and a quiet cluster
/// sees no write at all.
class RuleStatusWriter {
  public:
    RuleStatusWriter(kube::ApiClient& api, const ClusterRules& rules, const RuleWatchers& watchers,
                     WriteGate write_gate, std::function<void(const std::string&)> log);
    ~RuleStatusWriter();
    RuleStatusWriter(const RuleStatusWriter&) = delete;
    RuleStatusWriter& operator=(const RuleStatusWriter&) = delete;

    void start();
    void stop();
    /// One round: every rule's status compared and written where it differs (the thread's
    /// work, once a second; five times a second while a rule is in its first pass, which it
    /// returns). A rule's status is written at most once a second.
    bool write_changed();

  private:
    kube::ApiClient& api_;
    const ClusterRules& rules_;
    const RuleWatchers& watchers_;
    WriteGate write_gate_;
    std::function<void(const std::string&)> log_;
    struct Written {
        std::string patch;
        bool ready = false;
        std::string transition_time;
    };
    /// rule -> what was sent and has not come back in the object yet
    std::map<std::string, Written> written_;
    std::map<std::string, std::string> failed_;  ///< rule -> the last failure logged
    /// rule -> when its status was last written (or tried)
    std::map<std::string, std::chrono::steady_clock::time_point> patched_at_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable woken_;
    std::thread thread_;
};

}  // namespace cmsync::controller
