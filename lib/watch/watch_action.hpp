#pragma once

#include <string>
#include <vector>

#include "kube/object.hpp"

namespace cmsync {

/// What the watch loop did with a copy, the word of its log line.
enum class WatchActionKind { created, updated, recreated, deleted, drift, orphaned, error };

/// Why a copy is not in step, for Events (their reason) and metrics; none when it is.
enum class OutOfStep {
    none,
    drift,         ///< managed keys edited in the copy
    conflict,      ///< not ours, immutable, too big
    orphaned,      ///< its source is gone
    write_failed,  ///< the write was refused or failed
};

/// The write done or attempted.
enum class WriteVerb { create, update, remove };

/// One action of the watch loop, for the log, metrics and Events: a write, drift, an orphan,
/// an error.
struct WatchAction {
    kube::Kind kind = kube::kConfigMap;
    std::string cluster;  ///< the copy's cluster when clusters are named, else empty
    /// The copy is in another cluster than the process's own (its Events cannot go there).
    bool other_cluster = false;
    kube::ObjectRef target;
    WatchActionKind action = WatchActionKind::updated;
    std::vector<std::string> keys;
    std::string detail;
    std::string uid;  ///< of the copy, when it was read (Events name it)
    WriteVerb verb = WriteVerb::update;
    int conflicts_retried = 0;  ///< 409 answers met by reading and writing again
    OutOfStep reason = OutOfStep::none;
};

/// "created", "updated", "recreated", "deleted", "drift", "orphaned", "error".
const char* to_string(WatchActionKind kind);
/// "create", "update", "delete" (the API verbs).
const char* to_string(WriteVerb verb);
/// The Event reason: "Drift", "Conflict", "Orphaned", "WriteFailed"; "" for none.
const char* to_string(OutOfStep reason);
/// Whether the action is a write the server accepted.
bool wrote(WatchActionKind kind);

}  // namespace cmsync
