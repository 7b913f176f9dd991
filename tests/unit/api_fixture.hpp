#pragma once

#include <chrono>

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

}  // namespace cmsync
