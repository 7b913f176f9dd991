#include "watch/watch_action.hpp"

namespace cmsync {

const char* to_string(WatchActionKind kind) {
    // In the order of the enum.
    constexpr const char* kWords[] = {"created", "updated",  "recreated", "deleted",
                                      "drift",   "orphaned", "error"};
    return kWords[static_cast<int>(kind)];
}

const char* to_string(WriteVerb verb) {
    constexpr const char* kVerbs[] = {"create", "update", "delete"};  // the API's words
    return kVerbs[static_cast<int>(verb)];
}

const char* to_string(OutOfStep reason) {
    // In the order of the enum: Events' CamelCase reasons.
    constexpr const char* kReasons[] = {"", "Drift", "Conflict", "Orphaned", "WriteFailed"};
    return kReasons[static_cast<int>(reason)];
}

bool wrote(WatchActionKind kind) {
    return kind == WatchActionKind::created || kind == WatchActionKind::updated ||
           kind == WatchActionKind::recreated || kind == WatchActionKind::deleted;
}

}  // namespace cmsync
