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
    switch (result) {
        case SyncResult::created:
            return "created";
        case SyncResult::updated:
            return "updated";
        case SyncResult::recreated:
            return "recreated";
        case SyncResult::deleted:
            return "deleted";
        case SyncResult::unchanged:
            return "unchanged";
        case SyncResult::conflict:
            return "conflict";
        case SyncResult::error:
            return "error";
    }
    return "error";
}

bool wrote(SyncResult result) {
    return result == SyncResult::created || result == SyncResult::updated ||
           result == SyncResult::recreated || result == SyncResult::deleted;
}

}  // namespace cmsync
