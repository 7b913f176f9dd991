#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "http/transport.hpp"

namespace cmsync::cli {

/// Makes SIGINT and SIGTERM set stop_requested() instead of ending the process.
void install_stop_signals();

/// Whether SIGINT or SIGTERM arrived since install_stop_signals().
const std::atomic<bool>& stop_requested();

/// A transport cancel check that turns true `grace` after the first stop signal: requests in
/// flight, writes included, may finish, but no server that never answers holds the process
/// longer. It is polled about once a second (see WakeAfterStop).
http::CancelCheck cancel_after_stop(std::chrono::milliseconds grace);

/// Calls `wake` when cancel_after_stop(grace) turns true, so that streams, which poll it only
/// about once a second, end then and not up to a second later. Its thread sleeps in sem_wait
/// until a stop signal posts it (no wake-ups while idle). install_stop_signals() first.
class WakeAfterStop {
  public:
    WakeAfterStop(std::chrono::milliseconds grace, std::function<void()> wake);
    ~WakeAfterStop();  ///< stops waiting and joins; `wake` is not called after this
    WakeAfterStop(const WakeAfterStop&) = delete;
    WakeAfterStop& operator=(const WakeAfterStop&) = delete;

  private:
    std::mutex mutex_;
    std::condition_variable quit_changed_;
    bool quit_ = false;
    std::thread thread_;
};

}  // namespace cmsync::cli
