#pragma once

#include <string>

#include "plan/resync_outcome.hpp"

namespace cmsync {

/// `resync`'s text line for one copy ("NS/NAME: KIND ...: message"), control characters
/// escaped; empty for a copy in step (text output lists only what is not).
std::string render_resync_line(const ResyncOutcome& outcome);

/// `resync -o json` is one document written as copies arrive:
/// {"copies": [ {namespace, name, source, result, action, message?, error}, ... ],
///  "summary": {kind: count}, "errors": [...], "listRestarts": N}.
/// The opening, one copy (`first`: no comma before it), and the closing with the summary.
std::string render_resync_json_open();
std::string render_resync_json_copy(const ResyncOutcome& outcome, bool first);
std::string render_resync_json_close(const ResyncSummary& summary);

/// The text summary: namespace errors, then "N copies: a in-step, b updated, ...".
std::string render_resync_summary_text(const ResyncSummary& summary, DryRunMode dry_run);

/// resync's exit code: 1 a copy in conflict or error, an orphan left (without prune), or a
/// namespace that could not be listed; 0 otherwise.
int resync_exit_code(const ResyncSummary& summary, bool prune);

}  // namespace cmsync
