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
/// Callers block in run() as with curl_easy_perform; callbacks run on the multiplexer's thread.
class CurlMultiplexer {
  public:
    CurlMultiplexer();
    ~CurlMultiplexer();
    CurlMultiplexer(const CurlMultiplexer&) = delete;
    CurlMultiplexer& operator=(const CurlMultiplexer&) = delete;

    /// Runs the prepared transfer (begin() already called) to its end; returns its result.
    CURLcode run(CurlEasy& easy);

  private:
    struct Transfer {
        CurlEasy* easy;
        CURLcode result = CURLE_OK;
        bool done = false;
    };
    void loop();

    CURLM* multi_;
    std::mutex mutex_;
    std::condition_variable finished_;
    std::vector<Transfer*> incoming_;
    std::vector<Transfer*> active_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace cmsync::http
