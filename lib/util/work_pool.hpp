#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace cmsync {

/// Threads shared by every parallel loop of the process, so that many loops at once (a
/// thousand rules starting together) run on a bounded number of threads, and so hold a
/// bounded number of connections, instead of each loop starting threads of its own. Threads
/// start when work comes and end after a while without any.
class WorkPool {
  public:
    /// The process's pool (never destroyed: its threads may outlive main's objects).
    static WorkPool& shared();
    /// At least `threads` may run at once (the pool never shrinks its bound); 32 at first.
    void allow(int threads);
    /// Runs `task` on a pool thread, queued while every thread is busy. `task` must not throw.
    void submit(std::function<void()> task);
    /// Whether the calling thread is one of the pool's (work submitted from there and waited
    /// for could wait on itself).
    static bool on_pool_thread();

  private:
    WorkPool() = default;
    void work();

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> tasks_;
    int limit_ = 32;
    int threads_ = 0;
    int idle_ = 0;
};

}  // namespace cmsync
