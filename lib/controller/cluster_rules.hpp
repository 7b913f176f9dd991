#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "controller/rule_objects.hpp"
#include "controller/rule_source.hpp"
#include "kube/api_client.hpp"

namespace cmsync::controller {

/// ClusterSyncRule objects as a rule source (`watch --rules-from-cluster`): a thread lists
/// them (paged) and watches them from the list's resourceVersion, resuming from the last one
/// seen after a dropped stream and listing again after a 410, as the copies are watched. The
/// valid rules run, less any that overlaps an older rule; an invalid or refused rule is said in
/// the log once per generation.
class ClusterRules {
  public:
    using LogSink = std::function<void(const std::string&)>;
    ClusterRules(kube::ApiClient& api, LogSink log);
    ~ClusterRules();
    ClusterRules(const ClusterRules&) = delete;
    ClusterRules& operator=(const ClusterRules&) = delete;

    void start();
    /// Ends the thread (an open watch is woken) and joins it.
    void stop();
    /// The rules to run when they changed since last asked (nothing before the first list).
    RuleSource source();
    /// Every rule object as last read, and why those that do not run are refused (an overlap).
    std::map<std::string, RuleObject> objects() const;
    std::map<std::string, std::string> refused() const;

  private:
    void run();
    /// One list and the watch after it, until the stream ends or fails (throws).
    void list_and_watch(std::string& resource_version);
    void apply(const std::string& json);
    void erase(const std::string& name);
    /// Says what is wrong with each rule not run, once per generation and problem.
    void report(const RuleSelection& selection);

    kube::ApiClient& api_;
    LogSink log_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;  // guards the members below
    std::condition_variable woken_;
    std::map<std::string, RuleObject> objects_;
    bool listed_ = false;
    bool changed_ = false;
    std::map<std::string, std::string> said_;     ///< rule -> the problem last logged
    std::map<std::string, std::string> refused_;  ///< of the last selection
    std::thread thread_;
};

}  // namespace cmsync::controller
