#pragma once

#include <curl/curl.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "http/curl_easy.hpp"

namespace cmsync::http {

/// Drives long-running transfers (watches) on one curl multi handle in one thread, so they
/// share connections: over HTTP/2 every stream is multiplexed on a single connection.
/// Callers block in run() until their transfer ends; callbacks run on the multiplexer's thread.
class CurlMultiplexer {
  public:
    CurlMultiplexer();
    ~CurlMultiplexer();
    CurlMultiplexer(const CurlMultiplexer&) = delete;
    CurlMultiplexer& operator=(const CurlMultiplexer&) = delete;

    /// Runs the prepared transfer (begin() already called) to its end; returns its result.
    CURLcode run(CurlEasy& easy);
    /// Has the loop poll every transfer's cancel check now and end those it says to, instead
    /// of at their next progress callback: the loop sleeps up to a second in curl_multi_poll,
    /// and a stopping watcher waits for its streams (a SIGTERM handover took 3.1 s, issue 26
    /// item 8). Returns at once.
    void wake();

  private:
    /// Lives on the caller's stack; only its caller waits on `finished`, so an ended transfer
    /// wakes one thread, not every caller (a herd on each turn of the loop).
    struct Transfer {
        explicit Transfer(CurlEasy* e) : easy(e) {}
        CurlEasy* easy;
        CURLcode result = CURLE_OK;
        bool done = false;
        std::mutex mutex;
        std::condition_variable finished;
    };
    void loop();
    /// Ends the transfers whose cancel check is true now (CurlEasy::cancel_due).
    void end_cancelled();
    /// Hands `result` to the waiting caller; `t` may be gone as soon as this returns.
    static void end(Transfer* t, CURLcode result);

    CURLM* multi_;
    std::mutex mutex_;  ///< guards incoming_, check_cancels_ and stop_
    std::vector<Transfer*> incoming_;
    std::vector<Transfer*> active_;  ///< the loop's own
    bool check_cancels_ = false;     ///< wake() was called
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace cmsync::http
