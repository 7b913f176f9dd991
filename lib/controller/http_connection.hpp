#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>

#include "controller/http_request_head.hpp"
#include "controller/http_response.hpp"

namespace cmsync::controller {

/// What one client may hold of the health server, so that however many clients are slow,
/// idle or hostile, a probe is answered at once and memory stays bounded (Go's net/http
/// server, which controller-runtime serves probes with, has the same kinds of limits).
struct ServerLimits {
    /// A request head (request line and header fields) longer than this is answered 431.
    std::size_t max_head_bytes = 16 * 1024;
    /// Open connections; one more closes the one that matters least (HttpConnection::rank).
    std::size_t max_connections = 128;
    /// From the connection (or a later request's first byte) to its head's blank line.
    std::chrono::milliseconds read_header_timeout{10'000};
    /// A kept-alive connection waiting for its next request.
    std::chrono::milliseconds idle_timeout{60'000};
    /// Sending one answer.
    std::chrono::milliseconds write_timeout{10'000};
    /// After the last answer on a connection that closes: what the client still sends is read
    /// and dropped for this long, so closing with unread input (a body, a header past the
    /// limit) does not reset the connection before the client has read its answer.
    std::chrono::milliseconds linger{1'000};
};

/// One client of the health server on a non-blocking socket, which it owns: request heads are
/// read into a buffer of at most ServerLimits::max_head_bytes (+1), each answered before the
/// next is read (pipelined requests wait in the buffer); bodies are never read: a request with
/// one, a malformed one and "Connection: close" end the connection after their answer.
class HttpConnection {
  public:
    using Clock = std::chrono::steady_clock;
    using Handler = std::function<Response(const RequestHead&)>;

    HttpConnection(int fd, Clock::time_point now, const ServerLimits& limits);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    /// The socket.
    int fd() const { return fd_; }
    /// The poll events awaited: POLLOUT while an answer is being sent, else POLLIN.
    short events() const;
    /// Handles the socket's readiness (poll's `revents`): reads, answers complete requests
    /// with `handler` (an exception from it is a 500), sends. False when the connection is
    /// over and is to be destroyed.
    bool on_ready(short revents, Clock::time_point now, const Handler& handler);
    /// When the connection is to be closed if it has not got further: the read-header, idle,
    /// write or linger timeout of its present phase.
    Clock::time_point deadline() const { return deadline_; }
    /// The lowest is closed first when the server is full: lingering after its last answer,
    /// then without a complete request yet (half-open clients), then idle between requests,
    /// then sending an answer; the oldest first within each.
    std::pair<int, Clock::time_point> rank() const;

  private:
    enum class Phase { head, answer, linger };
    bool receive(Clock::time_point now);
    bool advance(Clock::time_point now, const Handler& handler);
    void answer(Clock::time_point now, const Handler& handler);
    bool drain();

    int fd_;
    ServerLimits limits_;
    Phase phase_ = Phase::head;
    Clock::time_point since_;  ///< when the present phase (or the head's first byte) began
    Clock::time_point deadline_;
    std::string received_;  ///< bytes read since the last complete request
    std::size_t searched_ = 0;
    bool served_ = false;     ///< a request was answered
    bool peer_done_ = false;  ///< the client sent its end of stream
    std::string out_;         ///< the answer being sent
    std::size_t sent_ = 0;
    bool keep_alive_ = false;
};

}  // namespace cmsync::controller
