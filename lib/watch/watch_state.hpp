#pragma once

#include <map>
#include <optional>
#include <string>

namespace cmsync {

/// What `watch --state-file` keeps between runs: each stream's resourceVersion and a digest of
/// each source's data (a restarted watch resumes from the RVs; a changed digest means the
/// source changed while nobody watched).
struct WatchState {
    std::string scope;                                     ///< "namespaces" or "cluster"
    std::map<std::string, std::string> resource_versions;  ///< stream -> RV
    std::map<std::string, std::string> source_digests;     ///< source name -> sha256 of data
    bool operator==(const WatchState&) const = default;
};

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
