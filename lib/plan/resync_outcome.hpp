#pragma once

#include <map>
#include <string>
#include <vector>

#include "plan/outcome.hpp"

namespace cmsync {

/// What `resync` found a copy to be, after repairing it if it could.
enum class ResyncKind { in_step, updated, conflict, orphaned, error };

/// "in-step", "updated", "conflict", "orphaned", "error".
const char* to_string(ResyncKind kind);

/// One copy's result.
struct ResyncOutcome {
    TargetOutcome target;
    ResyncKind kind = ResyncKind::in_step;
};

/// What a whole resync run found.
struct ResyncSummary {
    std::map<ResyncKind, int> counts;           ///< kind -> copies
    std::vector<std::string> namespace_errors;  ///< namespaces that could not be listed
    int list_restarts = 0;
    /// Copies of `kind` (0 when none).
    int count(ResyncKind kind) const;
    /// Copies in all.
    int total() const;
};

/// The kind of a copy that still has its source, from what syncing it did.
ResyncKind resync_kind(SyncResult result);

}  // namespace cmsync
