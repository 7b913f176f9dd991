#include "controller/http_request_head.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace cmsync::controller {

namespace {

// A few blank lines before a request are tolerated (a client's stray CRLF after a body);
// more are not a request.
constexpr std::size_t kMaxLeadingBlank = 8;

HeadParse bad(int status, std::string why) {
    HeadParse p;
    p.outcome = HeadParse::Outcome::bad;
    p.status = status;
    p.why = std::move(why);
    return p;
}

bool is_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// The path of an origin-form ("/x?y"), absolute-form ("http://h/x") or asterisk-form target.
std::optional<std::string> target_path(std::string_view target) {
    if (target == "*") {
        return std::string(target);
    }
    if (target.front() != '/') {
        const auto scheme = target.find("://");
        if (scheme == std::string_view::npos || !(iequals(target.substr(0, scheme), "http") ||
                                                  iequals(target.substr(0, scheme), "https"))) {
            return std::nullopt;
        }
        const auto slash = target.find('/', scheme + 3);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    return std::string(target.substr(0, target.find_first_of("?#")));
}

// Applies one "name: value" field to `head`; false when it is malformed.
bool header_field(std::string_view name, std::string_view value, RequestHead& head, int& hosts,
                  std::optional<std::uint64_t>& length) {
    if (iequals(name, "host")) {
        ++hosts;
    } else if (iequals(name, "connection")) {
        while (!value.empty()) {
            const auto comma = value.find(',');
            const auto option = trim(value.substr(0, comma));
            if (iequals(option, "close")) {
                head.keep_alive = false;
            } else if (iequals(option, "keep-alive") && head.minor_version == 0) {
                head.keep_alive = true;
            }
            value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        }
    } else if (iequals(name, "content-length")) {
        // Digits only (no sign, no list) and at most 18 of them, so the number fits.
        if (value.empty() || value.size() > 18 ||
            !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return false;
        }
        std::uint64_t n = 0;
        for (const char c : value) {
            n = n * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (length && *length != n) {
            return false;
        }
        length = n;
        head.has_body = head.has_body || n > 0;
    } else if (iequals(name, "transfer-encoding")) {
        head.has_body = true;
    }
    return true;
}

HeadParse parse_complete(std::string_view text) {
    HeadParse p;
    auto& head = p.head;
    const auto next_line = [&text] {
        const auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        return line;
    };
    const auto request_line = next_line();
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.find(' ', sp1 == std::string_view::npos ? sp1 : sp1 + 1);
    if (sp2 == std::string_view::npos ||
        request_line.find(' ', sp2 + 1) != std::string_view::npos) {
        return bad(400, "malformed request line");
    }
    const auto method = request_line.substr(0, sp1);
    const auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto version = request_line.substr(sp2 + 1);
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!is_token(method) || target.empty() ||
        std::any_of(target.begin(), target.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; }) ||
        version.size() != 8 || version.substr(0, 5) != "HTTP/" || !digit(version[5]) ||
        version[6] != '.' || !digit(version[7])) {
        return bad(400, "malformed request line");
    }
    if (version[5] != '1') {
        return bad(505, "HTTP version not supported");
    }
    auto path = target_path(target);
    if (!path) {
        return bad(400, "malformed request target");
    }
    head.method = std::string(method);
    head.path = std::move(*path);
    head.minor_version = version[7] == '0' ? 0 : 1;
    head.keep_alive = head.minor_version == 1;
    int hosts = 0;
    std::optional<std::uint64_t> length;
    for (auto line = next_line(); !line.empty(); line = next_line()) {
        if (line.front() == ' ' || line.front() == '\t') {
            return bad(400, "obsolete line folding");
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
            return bad(400, "malformed header field");
        }
        const auto value = trim(line.substr(colon + 1));
        if (std::any_of(value.begin(), value.end(), [](char c) {
                return (static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 0x7f;
            })) {
            return bad(400, "malformed header field");
        }
        if (!header_field(line.substr(0, colon), value, head, hosts, length)) {
            return bad(400, "malformed Content-Length");
        }
    }
    if (head.minor_version == 1 && hosts != 1) {
        return bad(400, hosts == 0 ? "missing Host header" : "more than one Host header");
    }
    head.keep_alive = head.keep_alive && !head.has_body;
    p.outcome = HeadParse::Outcome::complete;
    return p;
}

}  // namespace

HeadParse parse_request_head(std::string_view received, std::size_t max_size,
                             std::size_t searched) {
    const auto skip = std::min(received.find_first_not_of("\r\n"), received.size());
    if (skip > kMaxLeadingBlank) {
        return bad(400, "malformed request line");
    }
    // The blank line ends at a LF after a LF, or after a LF and a CR: the two bytes before
    // `searched` may have been the start of it.
    auto from = std::max(skip, searched >= 2 ? searched - 2 : 0);
    std::size_t end = std::string_view::npos;
    for (auto nl = received.find('\n', from); nl != std::string_view::npos;
         nl = received.find('\n', nl + 1)) {
        if (nl + 1 < received.size() && received[nl + 1] == '\n') {
            end = nl + 2;
        } else if (nl + 2 < received.size() && received[nl + 1] == '\r' &&
                   received[nl + 2] == '\n') {
            end = nl + 3;
        }
        if (end != std::string_view::npos) {
            break;
        }
    }
    if (end == std::string_view::npos || end > max_size) {
        if (received.size() > max_size) {
            return bad(431, "request header fields too large");
        }
        HeadParse p;
        p.size = received.size();
        return p;
    }
    auto p = parse_complete(received.substr(skip, end - skip));
    p.size = p.outcome == HeadParse::Outcome::complete ? end : 0;
    return p;
}

}  // namespace cmsync::controller
