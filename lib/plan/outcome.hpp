#pragma once

#include <string>
#include <vector>

#include "plan/merge.hpp"

namespace cmsync {

/// --dry-run: none writes; client only plans; server sends the writes with dryRun=All.
enum class DryRunMode { none, client, server };

/// What became of one target in a run that writes (sync, watch, resync): the result word of
/// reports, logs and metrics.
enum class SyncResult { created, updated, recreated, deleted, unchanged, conflict, error };

/// The plan (and, for sync, the result) of one target.
struct TargetOutcome {
    kube::ObjectRef source;  ///< empty when a copy's record of its source is unreadable
    kube::ObjectRef target;
    TargetPlan plan;
    std::string error;             ///< set when reading or writing this target failed
    bool applied = false;          ///< sync: the plan's write was accepted by the server
    int conflicts_retried = 0;     ///< sync: 409s answered by reading and planning again
    std::string rule{};            ///< the rules-file rule it belongs to; empty without -f
    std::string cluster{};         ///< the target's cluster when clusters are named, else empty
    std::string source_cluster{};  ///< the source's cluster when clusters are named, else empty
    kube::Kind kind = kube::kConfigMap;  ///< of source and target (sensitive: values masked)
    /// The action reported: plan.action, or error when `error` is set.
    TargetAction action() const { return error.empty() ? plan.action : TargetAction::error; }
    /// "NS/NAME" (or "CLUSTER/NS/NAME") of the source, or "" when it is not known.
    std::string source_text() const {
        return source.empty() ? ""
                              : (source_cluster.empty() ? "" : source_cluster + "/") + source.str();
    }
    /// How text output names it: "NS/NAME", "CLUSTER/NS/NAME" when clusters are named, with
    /// "RULE/" before for a rule of a rules file.
    std::string label() const {
        return (rule.empty() ? "" : rule + "/") + (cluster.empty() ? "" : cluster + "/") +
               target.str();
    }
};

/// Drops what a sync report never prints: the object to write and every key's values (a
/// write's plan holds the whole object; across 10,000 targets that was most of the memory).
void keep_summary_only(TargetOutcome& outcome);

/// The result of `outcome`: error when it has one, else what its plan did (or would do).
SyncResult sync_result(const TargetOutcome& outcome);

/// "created", "updated", "recreated", "deleted", "unchanged", "conflict", "error".
const char* to_string(SyncResult result);

/// Whether the result means a write the server accepted (or would accept).
bool wrote(SyncResult result);

}  // namespace cmsync
