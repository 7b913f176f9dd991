#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "watch/watcher.hpp"

namespace cmsync::controller {

/// What the controller knows of one rule object now: all its status says.
struct RuleState {
    std::int64_t generation = 0;
    std::vector<std::string> invalid;  ///< the validator's words: the rule does not run
    std::string refused;               ///< an overlap with an older rule: it does not run
    bool running = false;              ///< its watcher runs
    std::string failure;               ///< why its watcher last failed to run
    int failure_code = 0;              ///< the HTTP status of that failure
    /// A SyncRule: its named target namespaces that do not consent, and whether none does.
    std::vector<std::string> not_granted;
    bool no_grant = false;
    CopyCounts counts;
};

/// The Ready condition (metav1.Condition, without its transition time).
struct ReadyCondition {
    bool ready = false;
    std::string reason;  ///< CamelCase: InStep, Conflicts, Errors, SourceMissing, Forbidden, ...
    std::string message;
    bool operator==(const ReadyCondition&) const = default;
};

/// Ready and why, the first that holds of: Invalid, Overlap, Forbidden, Failing (the watcher
/// cannot run), NotGranted, Pending (not started), SourceMissing, Errors, Conflicts, Pending
/// (copies yet to be made), InStep.
ReadyCondition ready_condition(const RuleState& state);

/// The status as the status subresource takes it, a JSON merge patch `{"status": {...}}`:
/// observedGeneration, the counts, lastSyncTime (the last write of a copy) and the Ready
/// condition with `transition_time` (RFC 3339, UTC, seconds).
std::string status_patch(const RuleState& state, const ReadyCondition& ready,
                         const std::string& transition_time);

/// What a rule object's `status` says now (from its JSON), to compare with: the same text as
/// status_patch() makes of it, and its Ready condition and transition time (empty: none).
struct ObservedStatus {
    std::string patch;
    std::int64_t generation = 0;  ///< its observedGeneration
    ReadyCondition ready;
    std::string transition_time;
};
ObservedStatus observed_status(const std::string& object_json);

/// Whether a rule in its first pass keeps what `said` (the object's status, or the patch sent
/// and not back yet) says: it does when that is a status of its `generation`, whether a
/// restarted controller's or a Pending written once. The pass's progress is not written copy
/// by copy: a thousand rules starting together cost one status write each, and a new leader
/// does not turn InStep into Pending and back.
bool keeps_status(std::int64_t generation, const ObservedStatus& said);

/// `t` (Unix ms) as metav1.Time: RFC 3339 in UTC to the second.
std::string metav1_time(std::int64_t unix_ms);

}  // namespace cmsync::controller
