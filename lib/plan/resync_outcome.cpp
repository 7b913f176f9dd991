#include "plan/resync_outcome.hpp"

namespace cmsync {

const char* to_string(ResyncKind kind) {
    switch (kind) {
        case ResyncKind::in_step:
            return "in-step";
        case ResyncKind::updated:
            return "updated";
        case ResyncKind::conflict:
            return "conflict";
        case ResyncKind::orphaned:
            return "orphaned";
        case ResyncKind::error:
            return "error";
    }
    return "error";
}

int ResyncSummary::count(ResyncKind kind) const {
    const auto it = counts.find(kind);
    return it == counts.end() ? 0 : it->second;
}

int ResyncSummary::total() const {
    int n = 0;
    for (const auto& [kind, count] : counts) {
        n += count;
    }
    return n;
}

ResyncKind resync_kind(SyncResult result) {
    switch (result) {
        case SyncResult::unchanged:
            return ResyncKind::in_step;
        case SyncResult::conflict:
            return ResyncKind::conflict;
        case SyncResult::error:
            return ResyncKind::error;
        case SyncResult::created:
        case SyncResult::updated:
        case SyncResult::recreated:
        case SyncResult::deleted:
            return ResyncKind::updated;
    }
    return ResyncKind::error;
}

}  // namespace cmsync
