#include "plan/outcome.hpp"

namespace cmsync {

void keep_summary_only(TargetOutcome& outcome) {
    outcome.plan.desired.reset();
    for (auto& key : outcome.plan.keys) {
        key.source.reset();
        key.target.reset();
    }
}

SyncResult sync_result(const TargetOutcome& o) {
    if (!o.error.empty()) {
        return SyncResult::error;
    }
    switch (o.plan.action) {
        case TargetAction::create:
            return SyncResult::created;
        case TargetAction::update:
            return o.plan.delete_copy ? SyncResult::deleted
                   : o.plan.recreate  ? SyncResult::recreated
                                      : SyncResult::updated;
        case TargetAction::unchanged:
            return SyncResult::unchanged;
        case TargetAction::conflict:
            return SyncResult::conflict;
        case TargetAction::error:
            return SyncResult::error;
    }
    return SyncResult::error;
}

const char* to_string(SyncResult result) {
    // In the order of the enum.
    constexpr const char* kWords[] = {"created",   "updated",  "recreated", "deleted",
                                      "unchanged", "conflict", "error"};
    return kWords[static_cast<int>(result)];
}

bool wrote(SyncResult result) {
    return result == SyncResult::created || result == SyncResult::updated ||
           result == SyncResult::recreated || result == SyncResult::deleted;
}

}  // namespace cmsync
