#pragma once

#include <curl/curl.h>

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http/curl_easy.hpp"

namespace cmsync::http {

/// Drives long-running transfers (watches) on one curl multi handle in one thread, so they
/// share connections: over HTTP/2 every stream is multiplexed on a single connection.
/// Callers start() a transfer and are told when it ends; callbacks run on the multiplexer's
/// thread.
class CurlMultiplexer {
  public:
    CurlMultiplexer();
    ~CurlMultiplexer();
    CurlMultiplexer(const CurlMultiplexer&) = delete;
    CurlMultiplexer& operator=(const CurlMultiplexer&) = delete;

    /// Called once with the transfer's result, on the multiplexer's thread: it must not block.
    using Ended = std::function<void(CURLcode)>;

    /// Starts the prepared transfer (begin() already called) and returns at once; `ended` gets its
    /// result. `easy` must live until then. No thread waits: a thousand open watches cost a
    /// thousand handles only.
    void start(CurlEasy& easy, Ended ended);
    /// Has the loop poll every transfer's cancel check now and end those it says to, instead
    /// of at their next progress callback: the loop sleeps up to a second in curl_multi_poll,
    /// and a stopping watcher waits for its streams (a SIGTERM handover took 3.1 s, issue 26
    /// item 8). Returns at once.
    void wake();

  private:
    struct Transfer {
        CurlEasy* easy;
        Ended ended;
    };
    void loop();
    /// Ends the transfers whose cancel check is true now (CurlEasy::cancel_due).
    void end_cancelled();

    CURLM* multi_;
    std::mutex mutex_;  ///< guards incoming_, check_cancels_ and stop_
    std::vector<std::unique_ptr<Transfer>> incoming_;
    std::vector<std::unique_ptr<Transfer>> active_;  ///< the loop's own
    bool check_cancels_ = false;                     ///< wake() was called
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace cmsync::http
