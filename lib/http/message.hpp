#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cmsync::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request; `url` is absolute.
struct Request {
    std::string method = "GET";
    std::string url;
    Headers headers;
    std::string body;
    /// This attempt's whole time limit (connecting included); zero: none. Client sets it from
    /// what is left of the request's budget.
    std::chrono::milliseconds timeout{0};
    /// When set: the latest moment the request may be carried out (a leader's term). No
    /// attempt starts or lasts past it, and the API server is told the time left (its
    /// `timeout` parameter), so that it drops a write still queued then instead of making it.
    std::chrono::steady_clock::time_point deadline{};
};

/// What an error (non-2xx) response's body is cut to. Only a little of it is ever shown (1000
/// characters of a Status message, 16 KiB in a -v8 log); a Status fits whole.
constexpr std::size_t kMaxErrorBody = 64 * 1024;

/// One HTTP response with its whole body (an error body: its first kMaxErrorBody bytes).
struct Response {
    long status = 0;
    Headers headers;
    std::string body;
    /// The value of header `name` (case-insensitive), or an empty string.
    std::string header(std::string_view name) const;
};

/// Returns `headers` with credentials (Authorization, tokens) replaced by a mask, for logs.
Headers redact(const Headers& headers);

}  // namespace cmsync::http
