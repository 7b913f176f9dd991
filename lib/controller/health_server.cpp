#include "controller/health_server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.hpp"

namespace cmsync::controller {

namespace {

using Clock = HttpConnection::Clock;

constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextType = "text/plain; charset=utf-8";
// Connections accepted per turn of the loop: a flood of them does not hold up the others.
constexpr int kAcceptsPerTurn = 64;
// Out of descriptors or memory, the listener stays ready: accepting pauses this long.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

Response probe(const std::function<bool()>& check, int failure_status, const char* failure,
               const std::function<std::string()>& detail = nullptr) {
    bool ok = false;
    std::string why;
    try {
        ok = !check || check();
        if (!ok && detail) {
            why = detail();
        }
    } catch (const std::exception&) {
        ok = false;
    }
    return ok ? Response{200, kTextType, "ok\n", {}}
              : Response{failure_status, kTextType, std::string(failure) + "\n" + why, {}};
}

Response route(const RequestHead& head, const HealthCallbacks& callbacks) {
    if (head.path != "/healthz" && head.path != "/readyz" && head.path != "/metrics") {
        return Response{404, kTextType, "not found\n", {}};
    }
    if (head.method != "GET" && head.method != "HEAD") {
        return Response{405, kTextType, "method not allowed\n", {{"Allow", "GET, HEAD"}}};
    }
    if (head.path == "/healthz") {
        return probe(callbacks.alive, 500, "event loop stalled");
    }
    if (head.path == "/readyz") {
        return probe(callbacks.ready, 503, "not ready", callbacks.not_ready_detail);
    }
    return Response{200, kMetricsType, callbacks.metrics ? callbacks.metrics() : std::string(), {}};
}

// A non-blocking listening socket on host:port, or -1 with errno set. Without SO_REUSEPORT: a
// second server must not bind a port in use without a word and share its connections.
int listen_on(const std::string& host, int port, std::string& failure) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
        rc != 0) {
        failure = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
        return -1;
    }
    int sock = -1;
    for (auto* ai = found; ai != nullptr && sock < 0; ai = ai->ai_next) {
        sock = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (sock < 0) {
            failure = std::strerror(errno);
            continue;
        }
        const int yes = 1;
        const int no = 0;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (ai->ai_family == AF_INET6) {
            // "::" takes IPv4 too (mapped addresses), whatever net.ipv6.bindv6only says.
            ::setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
        }
        if (::bind(sock, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(sock, SOMAXCONN) != 0) {
            failure = std::strerror(errno);
            ::close(sock);
            sock = -1;
        }
    }
    ::freeaddrinfo(found);
    return sock;
}

int local_port(int sock) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length);
    return address.ss_family == AF_INET6
               ? ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port)
               : ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

}  // namespace

struct HealthServer::Impl {
    ServerLimits limits;
    HttpConnection::Handler handler;
    int listener = -1;
    int wake = -1;  ///< an eventfd: stop() writes it
    std::vector<std::unique_ptr<HttpConnection>> connections;
    Clock::time_point accept_paused_until;

    ~Impl() { close(); }
    void close() {
        connections.clear();
        for (int* fd : {&listener, &wake}) {
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
        }
    }
    void loop();
    void accept(Clock::time_point now);
    void evict();
};

void HealthServer::Impl::loop() {
    std::vector<pollfd> fds;
    for (;;) {
        const auto now = Clock::now();
        const bool accepting = now >= accept_paused_until;
        fds.assign({{wake, POLLIN, 0}, {accepting ? listener : -1, POLLIN, 0}});
        auto next = accepting ? Clock::time_point::max() : accept_paused_until;
        for (const auto& c : connections) {
            fds.push_back({c->fd(), c->events(), 0});
            next = std::min(next, c->deadline());
        }
        int timeout = -1;
        if (next != Clock::time_point::max()) {
            const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
            timeout = static_cast<int>(std::clamp<decltype(wait)>(wait, 0, 60'000));
        }
        if (::poll(fds.data(), fds.size(), timeout) < 0) {
            continue;  // EINTR; nothing else is expected of valid descriptors
        }
        if (fds[0].revents != 0) {
            return;
        }
        const auto after = Clock::now();
        std::size_t kept = 0;
        for (std::size_t i = 0; i < connections.size(); ++i) {
            auto& c = connections[i];
            const auto revents = fds[i + 2].revents;
            if ((revents != 0 && !c->on_ready(revents, after, handler)) || after >= c->deadline()) {
                c.reset();
                continue;
            }
            if (kept != i) {
                connections[kept] = std::move(c);
            }
            ++kept;
        }
        connections.resize(kept);
        if ((fds[1].revents & POLLIN) != 0) {
            accept(after);
        }
    }
}

void HealthServer::Impl::accept(Clock::time_point now) {
    for (int n = 0; n < kAcceptsPerTurn; ++n) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == ECONNABORTED || errno == EINTR) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                evict();
                accept_paused_until = now + kAcceptPause;
            }
            return;  // EAGAIN: no one else is waiting
        }
        if (connections.size() >= std::max<std::size_t>(limits.max_connections, 1)) {
            evict();
        }
        connections.push_back(std::make_unique<HttpConnection>(fd, now, limits));
    }
}

// A full server admits a new client by closing the connection that matters least, so clients
// that connect and never finish a request cannot lock the probes out.
void HealthServer::Impl::evict() {
    const auto victim =
        std::min_element(connections.begin(), connections.end(),
                         [](const auto& a, const auto& b) { return a->rank() < b->rank(); });
    if (victim != connections.end()) {
        connections.erase(victim);
    }
}

HealthServer::HealthServer(const std::string& bind_address, HealthCallbacks callbacks,
                           ServerLimits limits)
    : impl_(std::make_unique<Impl>()) {
    const auto where = parse_bind_address(bind_address);
    impl_->limits = limits;
    impl_->handler = [callbacks = std::move(callbacks)](const RequestHead& head) {
        return route(head, callbacks);
    };
    // ":PORT" means every address: IPv6 with IPv4 mapped where the kernel has IPv6, else IPv4.
    const std::vector<std::string> hosts = where.host.empty()
                                               ? std::vector<std::string>{"::", "0.0.0.0"}
                                               : std::vector<std::string>{where.host};
    std::string failure = "address not available";
    for (const auto& host : hosts) {
        impl_->listener = listen_on(host, where.port, failure);
        if (impl_->listener >= 0) {
            break;
        }
    }
    if (impl_->listener < 0) {
        throw Error(fmt::format("cannot listen on {}: {}", bind_address, failure));
    }
    port_ = local_port(impl_->listener);
    impl_->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (impl_->wake < 0) {
        throw Error(fmt::format("cannot listen on {}: {}", bind_address, std::strerror(errno)));
    }
    thread_ = std::thread([impl = impl_.get()] { impl->loop(); });
}

HealthServer::~HealthServer() {
    stop();
}

void HealthServer::stop() {
    if (thread_.joinable()) {
        const std::uint64_t one = 1;
        while (::write(impl_->wake, &one, sizeof one) < 0 && errno == EINTR) {
        }
        thread_.join();
        impl_->close();
    }
}

}  // namespace cmsync::controller
