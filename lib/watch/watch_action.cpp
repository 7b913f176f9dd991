#include "watch/watch_action.hpp"

namespace cmsync {

const char* to_string(WatchActionKind kind) {
    switch (kind) {
        case WatchActionKind::created:
            return "created";
        case WatchActionKind::updated:
            return "updated";
        case WatchActionKind::recreated:
            return "recreated";
        case WatchActionKind::deleted:
            return "deleted";
        case WatchActionKind::drift:
            return "drift";
        case WatchActionKind::orphaned:
            return "orphaned";
        case WatchActionKind::error:
            return "error";
    }
    return "error";
}

const char* to_string(WriteVerb verb) {
    switch (verb) {
        case WriteVerb::create:
            return "create";
        case WriteVerb::update:
            return "update";
        case WriteVerb::remove:
            return "delete";
    }
    return "update";
}

const char* to_string(OutOfStep reason) {
    switch (reason) {
        case OutOfStep::none:
            return "";
        case OutOfStep::drift:
            return "Drift";
        case OutOfStep::conflict:
            return "Conflict";
        case OutOfStep::orphaned:
            return "Orphaned";
        case OutOfStep::write_failed:
            return "WriteFailed";
    }
    return "";
}

bool wrote(WatchActionKind kind) {
    return kind == WatchActionKind::created || kind == WatchActionKind::updated ||
           kind == WatchActionKind::recreated || kind == WatchActionKind::deleted;
}

}  // namespace cmsync
