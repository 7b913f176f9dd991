#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "http/client.hpp"
#include "kube/api_client.hpp"

namespace cmsync {

/// An ApiClient on a fake transport of the test's own (no pauses between retries, server
/// "https://s", no credentials). Members are public: tests script `server` and call `api`.
template <typename Transport>
struct ApiFixture {
    Transport server;
    http::Client http{server, [] {
                          http::ClientOptions o;
                          o.sleep = [](std::chrono::milliseconds) {};
                          return o;
                      }()};
    kube::RestConfig config = [] {
        kube::RestConfig c;
        c.server = "https://s";
        return c;
    }();
    kube::Credentials credentials{config, nullptr, nullptr, nullptr};
    kube::ApiClient api{http, config, credentials};
};

/// A transport that answers every request with `answer(request)` (201 for a POST, 200 else,
/// "{}", unless told otherwise) after `delay`, and keeps each request. Thread-safe.
class RecordingApi : public http::Transport {
  public:
    std::function<http::Response(const http::Request&)> answer = [](const http::Request& r) {
        return http::Response{r.method == "POST" ? 201L : 200L, {}, "{}"};
    };
    std::chrono::milliseconds delay{0};

    http::Response send(const http::Request& r) override {
        std::this_thread::sleep_for(delay);
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
        return answer(r);
    }
    http::Response stream(const http::Request& r, const http::BodySink&,
                          const http::CancelCheck&) override {
        return send(r);
    }
    std::vector<http::Request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<http::Request> requests_;
};

}  // namespace cmsync
