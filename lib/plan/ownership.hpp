#pragma once

#include <map>
#include <optional>
#include <string>

#include "kube/object.hpp"

namespace cmsync {

/// Label on every copy; lets `resync` find copies with one server-side selector.
inline constexpr const char* kManagedLabel = "cmsync.io/managed";
/// Annotation "SOURCE_NS/NAME": where the copy comes from.
inline constexpr const char* kSyncFromAnnotation = "cmsync.io/sync-from";
/// Annotation: the cluster of the source named by sync-from, when it is another cluster than the
/// copy's (its name in the rules or, on the command line, its kubeconfig context). Missing: the
/// copy's own cluster, so sync-from stays as versions before clusters wrote and read it.
inline constexpr const char* kSyncFromClusterAnnotation = "cmsync.io/sync-from-cluster";
/// Annotation: JSON object, managed key -> sha256 hex of the value last written.
inline constexpr const char* kLastSyncedAnnotation = "cmsync.io/last-synced";
/// Annotation on a copy of a sensitive kind (a Secret), instead of last-synced: JSON array of
/// the managed keys. It holds nothing derived from a value (a digest in metadata would let
/// whoever may read metadata but not data test guesses of a short password).
inline constexpr const char* kManagedKeysAnnotation = "cmsync.io/managed-keys";
/// Annotation: the source resourceVersion last synced (information only).
inline constexpr const char* kSourceVersionAnnotation = "cmsync.io/source-resource-version";

/// Managed key -> sha256 hex of the value cmsync last wrote.
using KeyHashes = std::map<std::string, std::string>;

/// Where `copy` says it comes from (its sync-from annotation); nothing when it has none or the
/// annotation is not NAMESPACE/NAME.
std::optional<kube::ObjectRef> sync_from(const kube::Object& copy);
/// The cluster `copy` records its source in (sync-from-cluster); empty: its own cluster.
std::string sync_from_cluster(const kube::Object& copy);
/// Whether `copy` is recorded as a copy of `source` in `cluster` (empty: the copy's own
/// cluster; a copy recorded from another cluster is never a copy of a source of its own).
bool copy_of(const kube::Object& copy, const kube::ObjectRef& source,
             const std::string& cluster = {});
/// The sync-from annotation of a copy of `source`.
std::string sync_from_text(const kube::ObjectRef& source);
/// Who `copy` says owns it, for messages: "NS/NAME", or "CLUSTER/NS/NAME" from another
/// cluster; empty when it names no source.
std::string owner_text(const kube::Object& copy);
/// Records on `desired` that it is a copy of `source` in `cluster` (empty: the same cluster).
void set_sync_from(kube::Object& desired, const kube::ObjectRef& source,
                   const std::string& cluster);

/// What a copy records of cmsync's last writes.
struct WriteRecord {
    bool present = false;             ///< the copy has a record
    std::optional<KeyHashes> hashes;  ///< by managed key; nothing when the record is unreadable
    std::string problem;              ///< why it is unreadable
};

/// The hash a sensitive kind's managed key gets when its value was last set by another field
/// manager (a hand edit): no value hashes to it.
inline constexpr const char* kSetByAnother = "set-by-another-field-manager";

/// A ConfigMap's record is its last-synced annotation. A sensitive kind's names the keys only
/// (managed-keys); a key holds what cmsync wrote when managedFields say cmsync's field manager
/// set its present value (Object::owned_keys): its hash is then taken here, in memory, else it
/// is kSetByAnother. Either way the merge table reads it alike: an edited key is a conflict.
WriteRecord write_record(const kube::Object& copy);
/// "annotation NAME is not ..." (with `or_missing`: "is missing or not ...") for a record of
/// `kind` that cannot be read.
std::string unreadable_record(const kube::Kind& kind, bool or_missing);
/// Sets `desired`'s record (as its kind keeps it) of managed keys with these hashes.
void set_write_record(kube::Object& desired, const KeyHashes& next);
/// Removes `desired`'s record (it is no longer a copy).
void erase_write_record(kube::Object& desired);
/// Whether writing `next` changes the record `read` of a copy of `kind` (a sensitive kind's
/// record is the key names only).
bool record_changes(const kube::Kind& kind, const KeyHashes& read, const KeyHashes& next);

/// Parses the last-synced annotation; nothing when it is not a JSON object of strings.
std::optional<KeyHashes> parse_last_synced(const std::string& text);
/// The annotation text: a compact JSON object with keys in order.
std::string format_last_synced(const KeyHashes& hashes);

}  // namespace cmsync
