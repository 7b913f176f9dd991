#pragma once

#include <map>
#include <optional>
#include <string>

#include "kube/object.hpp"

namespace cmsync {

/// What `watch --state-file` keeps between runs: each stream's resourceVersion and a
/// fingerprint of each source (a restarted watch resumes from the RVs; a changed fingerprint
/// means the source changed while nobody watched).
struct WatchState {
    std::string scope;                                     ///< "namespaces" or "cluster"
    std::map<std::string, std::string> resource_versions;  ///< stream -> RV
    std::map<std::string, std::string> source_digests;     ///< name -> source_fingerprint
    bool operator==(const WatchState&) const = default;
};

/// What the state file records of `source` to notice a change made while nobody watched: the
/// sha256 of its data (ConfigMaps, as before), or for a sensitive kind "rv:" and its
/// resourceVersion. A digest of a Secret's values on disk could be tested against guesses
/// offline, and a keyed digest would need its key kept beside it; the resourceVersion also
/// moves on a change of metadata only, which costs one pass that writes nothing.
std::string source_fingerprint(const kube::Object& source);

std::string format_watch_state(const WatchState& state);
/// Throws Error naming `path` when the text is not a state file.
WatchState parse_watch_state(const std::string& text, const std::string& path);

/// Writes `text` to `path` atomically: a new temporary file beside it (random name, O_EXCL, no
/// symlink followed, mode 0600), fsync, rename. Throws Error, also when the folder is writable
/// by everyone without the sticky bit.
void write_file_atomically(const std::string& path, const std::string& text);
/// The file's content, or nothing when it does not exist. Throws Error when unreadable.
std::optional<std::string> read_file_if_exists(const std::string& path);

}  // namespace cmsync
