#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "controller/http_connection.hpp"

namespace cmsync::controller {

/// Where to listen: host (an IP address or name; empty: all addresses) and port (0: any free).
struct BindAddress {
    std::string host;
    int port = 0;
};

/// Parses ":8080", "0.0.0.0:8080", "127.0.0.1:0", "[::1]:8080", "localhost:8080"; throws
/// UsageError naming the address otherwise.
BindAddress parse_bind_address(const std::string& address);

struct HealthCallbacks {
    std::function<bool()> alive;           ///< /healthz: the event loop is turning
    std::function<bool()> ready;           ///< /readyz: synced and serving
    std::function<std::string()> metrics;  ///< /metrics: Registry::render()
    /// /readyz when not ready: lines saying why, after "not ready" (optional).
    std::function<std::string()> not_ready_detail;
};

/// /healthz, /readyz and /metrics over HTTP/1.1 on a thread of its own: one event loop over
/// non-blocking sockets, so a probe is answered at once however many clients are slow, idle or
/// hostile (`limits` bounds what each may hold). GET and HEAD; 405 for other methods on these
/// paths, 404 for other paths.
class HealthServer {
  public:
    /// Binds `bind_address` (see parse_bind_address) and starts serving; throws UsageError for a
    /// bad address and Error when it cannot listen (address in use, ...). The callbacks run on
    /// the server's thread, one at a time.
    HealthServer(const std::string& bind_address, HealthCallbacks callbacks,
                 ServerLimits limits = {});
    ~HealthServer();
    HealthServer(const HealthServer&) = delete;
    HealthServer& operator=(const HealthServer&) = delete;

    /// The port listened on (the one chosen when asked for port 0).
    int port() const { return port_; }
    /// Stops serving and joins the thread. Idempotent.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
    std::thread thread_;
};

}  // namespace cmsync::controller
