#include "controller/http_response.hpp"

#include <fmt/format.h>

namespace cmsync::controller {

namespace {

const char* reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

}  // namespace

std::string render_response(const Response& response, bool head_only, bool keep_alive,
                            int minor_version) {
    std::string out =
        fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n", response.status,
                    reason_phrase(response.status), response.content_type, response.body.size());
    for (const auto& [name, value] : response.headers) {
        out += fmt::format("{}: {}\r\n", name, value);
    }
    if (!keep_alive) {
        out += "Connection: close\r\n";
    } else if (minor_version == 0) {
        out += "Connection: keep-alive\r\n";
    }
    out += "\r\n";
    if (!head_only) {
        out += response.body;
    }
    return out;
}

}  // namespace cmsync::controller
