#pragma once

#include <map>
#include <mutex>
#include <string>

namespace cmsync {

/// The newest version of each source that a stream has queued for the watch loop (a delete's
/// resourceVersion too), noted by the stream threads as they queue it. A pass that is about to
/// write a copy from another version learns that the source moved on while the loop was busy
/// (with this pass, or a read of a member coming back), and reads it again rather than write
/// what the queued change would write once more. Thread-safe.
class SourceNews {
  public:
    void queued(const std::string& name, const std::string& resource_version);
    /// Whether the last version queued of `name` is not `resource_version` (nothing queued
    /// yet: no).
    bool moved_on(const std::string& name, const std::string& resource_version) const;
    /// `name` is gone (or no longer selected): nothing to remember.
    void forget(const std::string& name);

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string> queued_;  ///< name -> resourceVersion
};

}  // namespace cmsync
