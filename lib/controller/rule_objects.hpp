#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/sync_config.hpp"

namespace cmsync::controller {

/// Where rule objects live: ClusterSyncRules of group cmsync.io (deploy/crds/).
inline constexpr const char* kClusterSyncRulesPath = "/apis/cmsync.io/v1alpha1/clustersyncrules";
inline constexpr const char* kClusterSyncRulesResource = "clustersyncrules.cmsync.io";

/// One ClusterSyncRule as the API server holds it, read with the rules file's validator (one
/// rule model, one validator: an object that slipped past admission is found as a file is).
struct RuleObject {
    std::string name;
    std::int64_t generation = 0;
    std::string created;              ///< creationTimestamp (RFC 3339, UTC): the older rule wins
    std::optional<Rule> rule;         ///< when valid
    std::vector<std::string> errors;  ///< when not: the validator's words ("spec.source: ...")
    std::string json;                 ///< the object as read (its status is compared with)
};

/// Reads a ClusterSyncRule's JSON: its spec is checked as a rules file's rule of its name.
/// Throws Error when the text is no object with a metadata.name.
RuleObject read_cluster_rule(const std::string& json);

/// What to run of a set of rule objects: the valid ones, but for a rule that overlaps an older
/// one (two rules managing one target from different sources): the younger is refused, with
/// the overlap in the validator's words.
struct RuleSelection {
    std::vector<Rule> rules;
    std::map<std::string, std::string> refused;  ///< rule name -> why it does not run
};
RuleSelection select_rules(const std::map<std::string, RuleObject>& objects);

}  // namespace cmsync::controller
