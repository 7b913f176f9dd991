#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "kube/object.hpp"
#include "util/backoff.hpp"

namespace cmsync {

/// Copies whose read or write failed (the server away, a connection cut, a 5xx, a 429): each
/// is tried again after a backoff (0.8 s doubling to 30 s, jittered, as a watch re-opens) until
/// a pass settles it (in step, a conflict, gone), as a controller's work queue requeues an
/// item with a rate limit. Not left for the next event of the copy or the resync period,
/// which may be minutes away (found by the soak, issue 27). The caller says what time it is;
/// thread-safe (passes report from several threads).
class CopyRetries {
  public:
    using Clock = std::chrono::steady_clock;
    /// `copy` (of the source of its name) failed at `now`; `jitter` in [0, 1).
    void failed(const kube::ObjectRef& copy, Clock::time_point now, double jitter);
    /// `copy` came out of a pass without an error.
    void settled(const kube::ObjectRef& copy);
    /// The copies due at `now`, by source name: their namespaces. They stay known until a pass
    /// settles them or fails them again, but are not due again before that.
    std::map<std::string, std::set<std::string>> take_due(Clock::time_point now);
    void forget_namespace(const std::string& ns);
    void forget_name(const std::string& name);
    /// Nothing is owed (a standby: the new leader's repair reads every copy).
    void clear();
    std::size_t size() const;

  private:
    struct Entry {
        Backoff backoff;
        Clock::time_point due;
        bool taken = false;  ///< handed to a pass that has not reported yet
    };
    mutable std::mutex mutex_;
    std::map<kube::ObjectRef, Entry> entries_;
};

}  // namespace cmsync
