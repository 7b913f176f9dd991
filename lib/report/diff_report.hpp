#pragma once

#include <string>
#include <vector>

#include "plan/outcome.hpp"

namespace cmsync {

/// Text for `diff`: per target a line with its action, then a unified diff per changed key.
/// `color` adds ANSI colours (the caller decides from the terminal and --color).
std::string render_diff_text(const std::vector<TargetOutcome>& outcomes, bool color);

/// JSON for `diff -o json`: {"source": NS, "targets": [{source, namespace, name, action,
/// message, warnings, keys: [{key, change, reason, diff}], error}]}; `diff` as key_diff
/// (masked for a sensitive kind).
std::string render_diff_json(const std::string& source_namespace,
                             const std::vector<TargetOutcome>& outcomes);

/// diff's exit code: 0 nothing would change, 1 changes or conflicts, 2 any error.
int diff_exit_code(const std::vector<TargetOutcome>& outcomes);

/// The unified diff of one key (target value -> source value); binary values are summarised.
/// A sensitive kind's values are masked as `kubectl diff` masks Secret data ("*** (before)",
/// "*** (after)", "***"), with their sizes in bytes and nothing else of them.
std::string key_diff(const TargetOutcome& outcome, const KeyPlan& key);

}  // namespace cmsync
