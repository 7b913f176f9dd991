#pragma once

#include <string>
#include <vector>

#include "plan/outcome.hpp"

namespace cmsync {

/// Text for `sync`: a line per target (result, keys written, reason) and a summary line.
std::string render_sync_text(const std::vector<TargetOutcome>& outcomes, DryRunMode dry_run,
                             bool color);

/// JSON for `sync -o json`: {"source", "dryRun", "targets": [{source, namespace, name, result,
/// keys: [{key, change}], message, warnings, retries, error}], "summary": {result: count}}.
std::string render_sync_json(const std::string& source_namespace,
                             const std::vector<TargetOutcome>& outcomes, DryRunMode dry_run);

/// sync's exit code: 0 every target in step, 1 any target in conflict or error.
int sync_exit_code(const std::vector<TargetOutcome>& outcomes);

}  // namespace cmsync
