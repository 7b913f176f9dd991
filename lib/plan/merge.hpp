#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kube/object.hpp"
#include "plan/ownership.hpp"

namespace cmsync {

/// What happens to one key of one target (SPEC.md, key-level merge table).
enum class KeyAction { add, modify, remove, unchanged, conflict, forget, untouched };

struct KeyPlan {
    std::string key;
    KeyAction action = KeyAction::untouched;
    std::optional<kube::Value> source;  ///< the source's value, if any
    std::optional<kube::Value> target;  ///< the target's current value, if any
    std::string reason;                 ///< why a conflict (or a forced overwrite) happened
    bool forced = false;                ///< a conflict that --force turned into a write
};

/// What happens to one target as a whole.
enum class TargetAction { create, update, unchanged, conflict, error };

struct MergeInput {
    const kube::Object* source = nullptr;  ///< required
    const kube::Object* target = nullptr;  ///< nullptr: the target does not exist
    std::string target_namespace;
    /// --keys; nothing means every key of the source.
    std::optional<std::vector<std::string>> keys;
    bool force = false;
    /// value_digests(*source), when the caller plans many targets of one source: spares
    /// hashing the source's values once per target. Nothing: they are hashed here.
    const KeyHashes* source_digests = nullptr;
    /// The source's cluster as the copy records it: empty when the source is in the target's
    /// own cluster, else its name (the sync-from-cluster annotation).
    std::string source_cluster{};
};

struct TargetPlan {
    TargetAction action = TargetAction::unchanged;
    std::vector<KeyPlan> keys;  ///< every key of K ∪ keys(last-synced), in key order
    /// The object to send when `write` is set (create, update, or the writable part of a
    /// conflict); resourceVersion is the target's.
    std::optional<kube::Object> desired;
    bool write = false;
    /// An immutable target with --force: delete it, then create `desired`.
    bool recreate = false;
    /// --prune of an orphan whose managed keys were all it held: delete the copy.
    bool delete_copy = false;
    bool target_exists = false;
    std::string target_resource_version;  ///< of the target read, for PUT and delete
    std::string target_uid;               ///< of the target read (Events name it)
    std::string message;                  ///< for conflict and error: why
    bool hand_edited = false;             ///< a conflict of managed keys edited in the copy
    bool orphaned = false;                ///< a copy whose source is gone (plan_orphan)
    std::vector<std::string> warnings;
};

/// Key -> sha256 hex of each of `cm`'s values, as the last-synced annotation records them.
KeyHashes value_digests(const kube::Object& cm);

/// Plans one target: pure, no I/O. Keys outside K ∪ keys(last-synced) are never touched.
TargetPlan plan_target(const MergeInput& input);

/// Plans a copy whose source `source` is gone. Without `prune` nothing is written (the copy
/// is reported as an orphan: action conflict, `orphaned` set). With `prune`, managed keys
/// still holding what cmsync wrote are removed (edited ones are conflicts unless `force`), and
/// a copy left with no key is deleted. `cluster`: the source's cluster as the copy records it
/// (empty: the copy's own).
TargetPlan plan_orphan(const kube::Object& target, const kube::ObjectRef& source, bool prune,
                       bool force, const std::string& cluster = {});

/// Readable names for output and JSON.
const char* to_string(KeyAction action);
const char* to_string(TargetAction action);

/// The API server's limit on data + binaryData.
inline constexpr std::size_t kMaxDataBytes = 1024 * 1024;

}  // namespace cmsync
