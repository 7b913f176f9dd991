#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cmsync::controller {

/// What one HTTP/1.x request asked for, from its request line and header fields.
struct RequestHead {
    std::string method;
    /// The target's path: query and fragment dropped, an absolute-form target's scheme and
    /// authority too ("http://h/x?y" -> "/x"); "*" for an asterisk-form target.
    std::string path;
    int minor_version = 1;  ///< HTTP/1.0 or HTTP/1.1
    /// The connection stays open for another request: HTTP/1.1 unless "Connection: close",
    /// HTTP/1.0 only with "Connection: keep-alive"; never after a request with a body.
    bool keep_alive = true;
    /// A Content-Length above 0 or a Transfer-Encoding: this server reads no bodies, so the
    /// connection closes after the answer.
    bool has_body = false;
};

/// What the bytes received so far on a connection hold.
struct HeadParse {
    enum class Outcome { incomplete, complete, bad };
    Outcome outcome = Outcome::incomplete;
    RequestHead head;  ///< complete: the request
    /// complete: bytes the head took, its blank line included (the next request, pipelined,
    /// starts there); incomplete: bytes searched for the blank line, to pass back as `searched`.
    std::size_t size = 0;
    int status = 0;   ///< bad: the answer's status (400, 431 or 505)
    std::string why;  ///< bad: one line for the answer's body
};

/// Parses the request head at the start of `received`, the bytes of a connection since its
/// previous request. Incomplete until the blank line after the header fields has arrived;
/// bad (431) once more than `max_size` bytes came without it, so a client never makes the
/// server hold more than that; bad (400, 505) for a malformed head. Blank lines before the
/// request line are skipped (RFC 9112 2.2); lines may end in CRLF or a bare LF. `searched`
/// (the previous call's `size` while incomplete) skips bytes already searched: a head that
/// arrives byte by byte costs linear time.
HeadParse parse_request_head(std::string_view received, std::size_t max_size,
                             std::size_t searched = 0);

}  // namespace cmsync::controller
