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
/// Annotation: JSON object, managed key -> sha256 hex of the value last written.
inline constexpr const char* kLastSyncedAnnotation = "cmsync.io/last-synced";
/// Annotation: the source resourceVersion last synced (information only).
inline constexpr const char* kSourceVersionAnnotation = "cmsync.io/source-resource-version";

/// Managed key -> sha256 hex of the value cmsync last wrote.
using KeyHashes = std::map<std::string, std::string>;

/// Where `copy` says it comes from (its sync-from annotation); nothing when it has none or the
/// annotation is not NAMESPACE/NAME.
std::optional<kube::ObjectRef> sync_from(const kube::Object& copy);
/// Whether `copy` is recorded as a copy of `source`.
bool copy_of(const kube::Object& copy, const kube::ObjectRef& source);
/// The sync-from annotation of a copy of `source`.
std::string sync_from_text(const kube::ObjectRef& source);

/// Parses the last-synced annotation; nothing when it is not a JSON object of strings.
std::optional<KeyHashes> parse_last_synced(const std::string& text);
/// The annotation text: a compact JSON object with keys in order.
std::string format_last_synced(const KeyHashes& hashes);

}  // namespace cmsync
