#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/object_feed.hpp"
#include "controller/rule_objects.hpp"
#include "controller/rule_source.hpp"
#include "kube/api_client.hpp"

namespace cmsync::controller {

/// Rule objects as a rule source (`watch --rules-from-cluster`): ClusterSyncRules, SyncRules
/// and SyncGrants, each kept by an ObjectFeed. The valid rules run (a SyncRule only into the
/// namespaces whose grants consent), less any that overlaps an older rule; an invalid or
/// refused rule is said in the log once per problem.
class ClusterRules {
  public:
    using LogSink = std::function<void(const std::string&)>;
    ClusterRules(kube::ApiClient& api, LogSink log);
    ClusterRules(const ClusterRules&) = delete;
    ClusterRules& operator=(const ClusterRules&) = delete;

    void start();
    /// Ends the feeds' threads and joins them.
    void stop();
    /// The rules to run when they changed since last asked (nothing before the first lists).
    RuleSource source();

    /// What the last answer of source() was made of: for the rules' statuses.
    struct View {
        std::map<std::string, RuleObject> objects;  ///< by key
        RuleSelection selection;
    };
    /// Nothing before the feeds' first lists.
    std::shared_ptr<const View> view() const;

  private:
    enum class Refresh { not_listed, same, statuses_changed, rules_changed };
    /// Reads the feeds again when one changed; rules_changed when a rule object or a grant did
    /// (more than its status).
    Refresh refresh();
    void report(const View& view);

    LogSink log_;
    std::array<ObjectFeed, 3> feeds_;  ///< ClusterSyncRules, SyncRules, SyncGrants
    std::array<std::uint64_t, 3> versions_{};
    std::optional<std::string> answered_;  ///< the fingerprints of the rules last answered
    struct Parsed {
        std::string identity;  ///< uid and generation
        RuleObject object;     ///< its json left out
    };
    std::map<std::string, Parsed> parsed_;  ///< "c:NAME" / "n:NS/NAME" -> the last reading
    mutable std::mutex mutex_;              // guards view_
    std::shared_ptr<const View> view_;
    std::map<std::string, std::string> said_;  ///< rule -> the problem last logged
};

}  // namespace cmsync::controller
