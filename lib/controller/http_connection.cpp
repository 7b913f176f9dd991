#include "controller/http_connection.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <exception>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cmsync::controller {

namespace {

// One read per readiness, so one busy client cannot keep the loop from the others.
constexpr std::size_t kChunk = 16 * 1024;

bool would_block(int error) {
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

}  // namespace

HttpConnection::HttpConnection(int fd, Clock::time_point now, const ServerLimits& limits)
    : fd_(fd), limits_(limits), since_(now), deadline_(now + limits.read_header_timeout) {}

HttpConnection::~HttpConnection() {
    ::close(fd_);
}

short HttpConnection::events() const {
    return phase_ == Phase::answer ? POLLOUT : POLLIN;
}

std::pair<int, HttpConnection::Clock::time_point> HttpConnection::rank() const {
    switch (phase_) {
        case Phase::linger:
            return {0, since_};
        case Phase::head:
            return {served_ ? 2 : 1, since_};
        case Phase::answer:
            break;
    }
    return {3, since_};
}

bool HttpConnection::on_ready(short revents, Clock::time_point now, const Handler& handler) {
    if ((revents & (POLLERR | POLLNVAL)) != 0) {
        return false;
    }
    if (phase_ == Phase::linger) {
        return drain();
    }
    if (phase_ == Phase::head && (revents & (POLLIN | POLLHUP)) != 0 && !receive(now)) {
        return false;
    }
    return advance(now, handler);
}

bool HttpConnection::receive(Clock::time_point now) {
    std::array<char, kChunk> chunk;
    // One byte past the limit tells a head too large from one exactly at it.
    const auto room = limits_.max_head_bytes + 1 - received_.size();
    const auto n = ::recv(fd_, chunk.data(), std::min(room, chunk.size()), 0);
    if (n < 0) {
        return would_block(errno);
    }
    if (n == 0) {
        peer_done_ = true;
        return true;
    }
    if (received_.empty() && served_) {
        // A later request's first byte: from idle to reading a head.
        since_ = now;
        deadline_ = now + limits_.read_header_timeout;
    }
    received_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
}

bool HttpConnection::advance(Clock::time_point now, const Handler& handler) {
    for (;;) {
        if (phase_ == Phase::head) {
            if (received_.empty() && peer_done_) {
                return false;
            }
            answer(now, handler);
            if (phase_ == Phase::head) {
                // Incomplete: the rest of the head comes later, unless the client is done.
                return !peer_done_;
            }
        }
        while (sent_ < out_.size()) {
            const auto n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
            if (n < 0) {
                return would_block(errno);
            }
            sent_ += static_cast<std::size_t>(n);
        }
        std::string().swap(out_);  // a /metrics answer may be large: not kept for the next
        sent_ = 0;
        served_ = true;
        since_ = now;
        if (!keep_alive_) {
            if (peer_done_) {
                return false;
            }
            ::shutdown(fd_, SHUT_WR);
            std::string().swap(received_);
            phase_ = Phase::linger;
            deadline_ = now + limits_.linger;
            return true;
        }
        phase_ = Phase::head;
        deadline_ = now + (received_.empty() ? limits_.idle_timeout : limits_.read_header_timeout);
        if (received_.empty()) {
            return !peer_done_;
        }
    }
}

// Parses what was received; a complete or bad head gets its answer in out_ (phase answer),
// an incomplete one leaves the phase as it is.
void HttpConnection::answer(Clock::time_point now, const Handler& handler) {
    const auto parse = parse_request_head(received_, limits_.max_head_bytes, searched_);
    Response response;
    bool head_only = false;
    int minor_version = 1;
    switch (parse.outcome) {
        case HeadParse::Outcome::incomplete:
            searched_ = parse.size;
            return;
        case HeadParse::Outcome::bad:
            response = Response{parse.status, "text/plain; charset=utf-8", parse.why + "\n", {}};
            keep_alive_ = false;
            break;
        case HeadParse::Outcome::complete:
            try {
                response = handler(parse.head);
            } catch (const std::exception&) {
                response = Response{500, "text/plain; charset=utf-8", "internal error\n", {}};
            }
            head_only = parse.head.method == "HEAD";
            minor_version = parse.head.minor_version;
            keep_alive_ = parse.head.keep_alive;
            received_.erase(0, parse.size);
            break;
    }
    searched_ = 0;
    out_ = render_response(response, head_only, keep_alive_, minor_version);
    phase_ = Phase::answer;
    since_ = now;
    deadline_ = now + limits_.write_timeout;
}

bool HttpConnection::drain() {
    std::array<char, kChunk> chunk;
    const auto n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    return n > 0 || (n < 0 && would_block(errno));
}

}  // namespace cmsync::controller
