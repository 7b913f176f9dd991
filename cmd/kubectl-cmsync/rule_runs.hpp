#pragma once

#include <string>
#include <vector>

#include "kube/api_client.hpp"
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
};

/// Plans (and, with `write`, applies: sync) every rule with run_spec. In the positional form
/// (one unnamed rule) a failure is the command's (thrown); with -f, a rule that cannot run (its
/// source forbidden or missing) fails alone and the others are still done. An unreachable
/// server is always the command's failure.
std::vector<RuleRun> run_rules(kube::ApiClient& api, const std::vector<Rule>& rules,
                               const RunOptions& run, const WriteOptions* write);

/// Warnings for rules whose selection matched nothing, in the process log.
void warn_empty_selections(const std::vector<RuleRun>& runs);

}  // namespace cmsync::cli
