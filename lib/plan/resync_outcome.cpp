#include "plan/resync_outcome.hpp"

namespace cmsync {

const char* to_string(ResyncKind kind) {
    // In the order of the enum.
    constexpr const char* kWords[] = {"in-step", "updated", "conflict", "orphaned", "error"};
    return kWords[static_cast<int>(kind)];
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
    if (result == SyncResult::unchanged) {
        return ResyncKind::in_step;
    }
    if (result == SyncResult::conflict || result == SyncResult::error) {
        return result == SyncResult::conflict ? ResyncKind::conflict : ResyncKind::error;
    }
    return ResyncKind::updated;  // created, updated, recreated or deleted
}

}  // namespace cmsync
