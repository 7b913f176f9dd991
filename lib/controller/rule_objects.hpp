#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/sync_config.hpp"

namespace cmsync::controller {

/// Where rule objects live (deploy/crds/), as "/apis/GROUP/VERSION/PLURAL".
inline constexpr const char* kClusterSyncRulesPath = "/apis/cmsync.io/v1alpha1/clustersyncrules";
inline constexpr const char* kClusterSyncRulesResource = "clustersyncrules.cmsync.io";
inline constexpr const char* kSyncRulesPath = "/apis/cmsync.io/v1alpha1/syncrules";
inline constexpr const char* kSyncRulesResource = "syncrules.cmsync.io";
inline constexpr const char* kSyncGrantsPath = "/apis/cmsync.io/v1alpha1/syncgrants";
inline constexpr const char* kSyncGrantsResource = "syncgrants.cmsync.io";

/// One rule object (a ClusterSyncRule, or a SyncRule) as the API server holds it, read with
/// the rules file's validator (one rule model, one validator: an object that slipped past
/// admission is found as a file's mistake is).
struct RuleObject {
    bool namespaced = false;     ///< a SyncRule (its source in its own namespace)
    std::string namespace_name;  ///< a SyncRule's
    std::string name;
    std::int64_t generation = 0;
    std::string created;              ///< creationTimestamp (RFC 3339, UTC): the older rule wins
    std::optional<Rule> rule;         ///< when valid; named as key() says
    std::vector<std::string> errors;  ///< when not: the validator's words ("spec.source: ...")
    std::string json;                 ///< the object as read (its status is compared with)
    /// "NAME", or "NS/NAME" for a SyncRule: its rule's name in logs, metrics and Events.
    std::string key() const { return namespaced ? namespace_name + "/" + name : name; }
    /// Its status subresource.
    std::string status_path() const;
    /// "ClusterSyncRule NAME" or "SyncRule NS/NAME".
    std::string label() const;
};

/// Reads a ClusterSyncRule's JSON: its spec is checked as a rules file's rule of its name.
/// Throws Error when the text is no object with a metadata.name.
RuleObject read_cluster_rule(const std::string& json);
/// Reads a SyncRule's JSON: the same, its source namespace being the object's namespace.
RuleObject read_sync_rule(const std::string& json);

/// A target namespace's consent (a SyncGrant): which SyncRules may write there.
struct Grant {
    std::string namespace_name;
    struct From {
        std::string namespace_name;      ///< of the SyncRules allowed
        std::vector<std::string> kinds;  ///< empty: every kind
        std::vector<std::string> names;  ///< of their sources; empty: any
    };
    std::vector<From> from;
};
/// Reads a SyncGrant's JSON (what it cannot read grants nothing).
Grant read_grant(const std::string& json);

/// The namespaces whose grants let a SyncRule's `rule` write there: a grant's `from` names the
/// rule's namespace, its kind (or no kinds) and every source name the rule names (or no names;
/// a selector rule's sources are not known ahead, so a grant limited to names refuses it).
std::vector<std::string> granted_namespaces(const Rule& rule, const std::vector<Grant>& grants);

/// Grants by the namespace they consent to (a `from` entry's), so that a thousand SyncRules
/// each look at their own grants, not at every grant. Refers to `grants`: it must outlive it.
class GrantIndex {
  public:
    explicit GrantIndex(const std::vector<Grant>& grants);

  private:
    friend std::vector<std::string> granted_namespaces(const Rule&, const GrantIndex&);
    /// source namespace -> (the grant's namespace, the `from` entry naming it)
    std::map<std::string, std::vector<std::pair<const std::string*, const Grant::From*>>>
        by_source_;
};
/// granted_namespaces through an index of the grants.
std::vector<std::string> granted_namespaces(const Rule& rule, const GrantIndex& grants);

/// What to run of a set of rule objects: the valid ones (SyncRules limited to the namespaces
/// that grant them), but for a rule that overlaps an older one (two rules managing one target
/// from different sources): the younger is refused, with the overlap in the validator's words.
struct RuleSelection {
    std::vector<Rule> rules;
    std::map<std::string, std::string> refused;  ///< rule key -> why it does not run
    /// SyncRule key -> its named target namespaces without a grant for it.
    std::map<std::string, std::vector<std::string>> not_granted;
};
RuleSelection select_rules(const std::map<std::string, RuleObject>& objects,
                           const std::vector<Grant>& grants);

}  // namespace cmsync::controller
