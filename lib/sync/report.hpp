#pragma once

#include <string>
#include <vector>

#include "sync/merge.hpp"

namespace cmsync {

/// The plan (and, for sync, the result) of one target ConfigMap.
struct TargetOutcome {
    std::string source;  ///< "NS/NAME" of the source
    std::string namespace_name;
    std::string name;
    TargetPlan plan;
    std::string error;          ///< set when reading or writing this target failed
    bool applied = false;       ///< sync: the plan's write was accepted by the server
    int conflicts_retried = 0;  ///< sync: 409s answered by reading and planning again
    std::string rule{};         ///< the rules-file rule it belongs to; empty without -f
    /// The action reported: plan.action, or error when `error` is set.
    TargetAction action() const { return error.empty() ? plan.action : TargetAction::error; }
    /// How text output names it: "NS/NAME", or "RULE/NS/NAME" for a rule of a rules file.
    std::string label() const {
        return (rule.empty() ? "" : rule + "/") + namespace_name + "/" + name;
    }
};

/// Drops what a sync report never prints: the object to write and every key's values (a
/// write's plan holds the whole ConfigMap; across 10,000 targets that was most of the memory).
void keep_summary_only(TargetOutcome& outcome);

/// Text for `diff`: per target a line with its action, then a unified diff per changed key.
/// `color` adds ANSI colours (the caller decides from the terminal and --color).
std::string render_diff_text(const std::vector<TargetOutcome>& outcomes, bool color);

/// JSON for `diff -o json`: {"source": NS, "targets": [{source, namespace, name, action,
/// message, warnings, keys: [{key, change, reason, diff}], error}]}.
std::string render_diff_json(const std::string& source_namespace,
                             const std::vector<TargetOutcome>& outcomes);

/// diff's exit code: 0 nothing would change, 1 changes or conflicts, 2 any error.
int diff_exit_code(const std::vector<TargetOutcome>& outcomes);

/// The unified diff of one key (target value -> source value); binary values are summarised.
std::string key_diff(const TargetOutcome& outcome, const KeyPlan& key);

}  // namespace cmsync
