#pragma once

#include <string>
#include <vector>

#include "rules/sync_config.hpp"

namespace cmsync {

/// What one Watcher of `watch` runs: a rule in one of its target clusters. A rule that names no
/// cluster is one unit, as before clusters; one that names clusters is a unit per target
/// cluster, each on its own connection, streams, resourceVersions and backoff, so one cluster
/// down, slow, forbidden or compacting never holds back another.
struct RuleUnit {
    Rule rule;
    ClusterRef target;    ///< ClusterRef{} when the rule names no cluster
    std::string cluster;  ///< how reports, logs and metrics name it ("": the rule names none)
    /// The source is in another cluster than `target` (its streams run there).
    bool across = false;
    /// rule_fingerprint and the target cluster: equal exactly when two units do the same.
    std::string fingerprint;
};

/// The units of `rule`, in the order of its target clusters. Pure.
std::vector<RuleUnit> rule_units(const Rule& rule);

/// The state file of a unit: `base` suffixed with ".RULE" for a named rule (a SyncRule's
/// "NS/NAME" as "NS.NAME") and ".CLUSTER" for a named cluster (a character other than
/// [A-Za-z0-9._-], as a context's ":" or "/", as "_"); empty without `base`. Each unit resumes
/// from its own resourceVersions.
std::string unit_state_file(const std::string& base, const std::string& rule,
                            const std::string& cluster);

/// How a unit's log lines start: "rule R: ", "rule R, cluster C: ", "cluster C: ", or "".
std::string unit_log_prefix(const std::string& rule, const std::string& cluster);

}  // namespace cmsync
