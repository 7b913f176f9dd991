#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cmsync::controller {

/// One answer of the health server, before it is put into HTTP/1.1 words.
struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    /// Further header fields, as ("Allow", "GET, HEAD").
    std::vector<std::pair<std::string, std::string>> headers;
};

/// The status line and header fields (Content-Type, Content-Length always, Connection) and,
/// unless `head_only` (a HEAD request: the length a GET would get, no body), the body.
/// `keep_alive`: whether the connection stays open; `minor_version` of the request: an
/// HTTP/1.0 client is told "Connection: keep-alive" when it stays open, an HTTP/1.1 one only
/// "Connection: close" when it does not.
std::string render_response(const Response& response, bool head_only, bool keep_alive,
                            int minor_version);

}  // namespace cmsync::controller
