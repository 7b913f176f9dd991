#include "http/proxy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>

namespace cmsync::http {

namespace {

std::string lower_trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

struct HostPort {
    std::string host;  ///< lower case, IPv6 without brackets
    std::string port;  ///< may be empty
};

// "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address.
HostPort split_host_port(std::string_view text) {
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return {lower_trimmed(text), ""};
        }
        const auto rest = text.substr(close + 1);
        return {lower_trimmed(text.substr(1, close - 1)),
                rest.size() > 1 && rest.front() == ':' ? std::string(rest.substr(1)) : ""};
    }
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
        return {lower_trimmed(text), ""};  // no port, or a bare IPv6 address
    }
    return {lower_trimmed(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

// An IPv4 or IPv6 address as 16 bytes (IPv4 mapped into IPv6), or nothing.
std::optional<std::array<unsigned char, 16>> parse_ip(const std::string& text) {
    std::array<unsigned char, 16> out{};
    unsigned char v4[4];
    if (::inet_pton(AF_INET, text.c_str(), v4) == 1) {
        out[10] = out[11] = 0xff;
        std::copy(v4, v4 + 4, out.begin() + 12);
        return out;
    }
    if (::inet_pton(AF_INET6, text.c_str(), out.data()) == 1) {
        return out;
    }
    return std::nullopt;
}

bool is_v4(const std::array<unsigned char, 16>& ip) {
    return std::all_of(ip.begin(), ip.begin() + 10, [](unsigned char b) { return b == 0; }) &&
           ip[10] == 0xff && ip[11] == 0xff;
}

bool is_loopback(const std::array<unsigned char, 16>& ip) {
    std::array<unsigned char, 16> v6_loopback{};
    v6_loopback[15] = 1;
    return (is_v4(ip) && ip[12] == 127) || ip == v6_loopback;
}

// Whether `ip` lies in `cidr` ("10.0.0.0/8", "fd00::/8"); false when `cidr` is not one.
bool in_cidr(const std::array<unsigned char, 16>& ip, const std::string& cidr) {
    const auto slash = cidr.find('/');
    if (slash == std::string::npos) {
        return false;
    }
    const auto net = parse_ip(cidr.substr(0, slash));
    int bits = -1;
    try {
        bits = std::stoi(cidr.substr(slash + 1));
    } catch (const std::exception&) {
        return false;
    }
    if (!net || bits < 0 || bits > (is_v4(*net) ? 32 : 128)) {
        return false;
    }
    if (is_v4(*net)) {
        bits += 96;
    }
    for (int i = 0; i < 16; ++i, bits -= 8) {
        const int keep = std::clamp(bits, 0, 8);
        const auto mask = static_cast<unsigned char>(0xff << (8 - keep));
        if ((ip[i] & mask) != ((*net)[i] & mask)) {
            return false;
        }
    }
    return true;
}

// One NO_PROXY entry against the request's host and port, as Go's httpproxy matches it:
// "*", an IP or CIDR, or a domain ("foo.com" also matches its subdomains, ".foo.com" and
// "*.foo.com" only them), each optionally with ":port".
bool no_proxy_matches(const std::string& entry, const HostPort& target) {
    if (entry == "*") {
        return true;
    }
    const auto ip = parse_ip(target.host);
    if (entry.find('/') != std::string::npos) {
        return ip && in_cidr(*ip, entry);
    }
    auto pattern = split_host_port(entry);
    if (pattern.host.empty() || (!pattern.port.empty() && pattern.port != target.port)) {
        return false;
    }
    if (const auto pattern_ip = parse_ip(pattern.host)) {
        return ip && *ip == *pattern_ip;
    }
    if (pattern.host.rfind("*.", 0) == 0) {
        pattern.host.erase(0, 1);
    }
    const bool match_host = pattern.host.front() != '.';
    const auto suffix = match_host ? "." + pattern.host : pattern.host;
    return (target.host.size() >= suffix.size() &&
            target.host.compare(target.host.size() - suffix.size(), suffix.size(), suffix) == 0) ||
           (match_host && target.host == pattern.host);
}

}  // namespace

std::string choose_proxy(const std::string& server, const std::string& proxy_url,
                         const ProxyEnvironment& env) {
    if (!proxy_url.empty()) {
        return proxy_url;
    }
    const bool https = server.rfind("https://", 0) == 0;
    const auto& proxy = https ? env.https_proxy : env.http_proxy;
    if (proxy.empty()) {
        return {};
    }
    const auto start = server.find("://") + 3;
    const auto end = server.find_first_of("/?#", start);
    auto target = split_host_port(std::string_view(server).substr(start, end - start));
    if (target.port.empty()) {
        target.port = https ? "443" : "80";
    }
    const auto ip = parse_ip(target.host);
    if (target.host == "localhost" || (ip && is_loopback(*ip))) {
        return {};
    }
    std::string_view entries = env.no_proxy;
    while (!entries.empty()) {
        const auto comma = entries.find(',');
        const auto entry = lower_trimmed(entries.substr(0, comma));
        if (!entry.empty() && no_proxy_matches(entry, target)) {
            return {};
        }
        entries.remove_prefix(comma == std::string_view::npos ? entries.size() : comma + 1);
    }
    return proxy;
}

}  // namespace cmsync::http
