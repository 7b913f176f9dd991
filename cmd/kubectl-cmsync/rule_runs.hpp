#pragma once

#include <string>
#include <vector>

#include "cluster_connections.hpp"
#include "report/diff_report.hpp"
#include "rules/sync_config.hpp"
#include "sync/pipeline.hpp"

namespace cmsync::cli {

/// What one rule did in diff or sync.
struct RuleRun {
    const Rule* rule = nullptr;
    std::vector<TargetOutcome> outcomes;  ///< each tagged with the rule's name
    std::string error;                    ///< the rule could not run; its outcomes are empty
    bool no_sources = false;              ///< the selection matched nothing
    std::vector<ClusterFailure> failed_clusters;  ///< target clusters that failed as a whole
};

/// Plans (and, with `write`, applies: sync) every rule with run_spec. In the positional form
/// (one unnamed rule) a failure is the command's (thrown); with -f, a rule that cannot run (its
/// source forbidden or missing) fails alone and the others are still done. An unreachable
/// server is always the command's failure; an unreachable target cluster only its targets'.
/// Each rule reads its source through its source cluster's connection and writes each target
/// cluster through that cluster's.
std::vector<RuleRun> run_rules(ClusterConnections& clusters, const std::vector<Rule>& rules,
                               const RunOptions& run, const WriteOptions* write);

/// "CLUSTER: error: ..." lines (with "RULE: " first for a rule of a rules file) for the target
/// clusters that failed as a whole.
std::string cluster_failure_lines(const std::vector<RuleRun>& runs);

/// Warnings for rules whose selection matched nothing, in the process log.
void warn_empty_selections(const std::vector<RuleRun>& runs);

}  // namespace cmsync::cli
