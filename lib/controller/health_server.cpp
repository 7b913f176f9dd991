#include "controller/health_server.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "error.hpp"

namespace cmsync::controller {

namespace {

constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextType = "text/plain; charset=utf-8";

// Two threads answer: probes and a scrape now and then, never many clients.
constexpr std::size_t kThreads = 2;

using Check = std::function<bool()>;

void probe(httplib::Response& res, const Check& check, int failure_status, const char* failure) {
    bool ok = false;
    try {
        ok = !check || check();
    } catch (const std::exception&) {
        ok = false;
    }
    res.status = ok ? 200 : failure_status;
    res.set_content(ok ? "ok\n" : std::string(failure) + "\n", kTextType);
}

// Not httplib's default SO_REUSEPORT: with it a second server binds a port in use without a
// word and the kernel splits the connections between the two.
void socket_options(int sock) {
    const int yes = 1;
    const int no = 0;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // "::" takes IPv4 too (mapped addresses), whatever net.ipv6.bindv6only says; an IPv4
    // socket refuses the option, which is fine.
    ::setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
}

}  // namespace

struct HealthServer::Impl {
    httplib::Server server;
    std::atomic<bool> ended{false};
};

HealthServer::HealthServer(const std::string& bind_address, HealthCallbacks callbacks)
    : impl_(std::make_unique<Impl>()) {
    const auto where = parse_bind_address(bind_address);
    auto& server = impl_->server;
    server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    server.set_socket_options(socket_options);
    server.Get("/healthz",
               [alive = callbacks.alive](const httplib::Request&, httplib::Response& res) {
                   probe(res, alive, 500, "event loop stalled");
               });
    server.Get("/readyz",
               [ready = callbacks.ready](const httplib::Request&, httplib::Response& res) {
                   probe(res, ready, 503, "not ready");
               });
    server.Get("/metrics",
               [metrics = callbacks.metrics](const httplib::Request&, httplib::Response& res) {
                   res.set_content(metrics ? metrics() : std::string(), kMetricsType);
               });
    // ":PORT" means every address: IPv6 with IPv4 mapped where the kernel has IPv6, else IPv4.
    const std::vector<std::string> hosts = where.host.empty()
                                               ? std::vector<std::string>{"::", "0.0.0.0"}
                                               : std::vector<std::string>{where.host};
    int failure = 0;
    for (const auto& host : hosts) {
        errno = 0;
        if (where.port == 0) {
            port_ = server.bind_to_any_port(host);
        } else {
            port_ = server.bind_to_port(host, where.port) ? where.port : -1;
        }
        if (port_ > 0) {
            break;
        }
        failure = errno;
    }
    if (port_ <= 0) {
        // cpp-httplib reports only false; errno still holds what bind() or getaddrinfo() left.
        throw Error(fmt::format("cannot listen on {}: {}", bind_address,
                                failure != 0 ? std::strerror(failure) : "address not available"));
    }
    thread_ = std::thread([this] {
        impl_->server.listen_after_bind();
        impl_->ended = true;
    });
    // stop() before the loop is running would be lost (httplib stops only a running server).
    while (!impl_->server.is_running() && !impl_->ended) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

HealthServer::~HealthServer() {
    stop();
}

void HealthServer::stop() {
    if (thread_.joinable()) {
        impl_->server.stop();
        thread_.join();
    }
}

}  // namespace cmsync::controller
