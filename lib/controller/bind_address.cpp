#include <fmt/format.h>

#include <charconv>

#include "controller/health_server.hpp"
#include "error.hpp"

namespace cmsync::controller {

BindAddress parse_bind_address(const std::string& address) {
    const auto bad = [&](const char* why) {
        return UsageError(fmt::format("invalid bind address \"{}\": {}", address, why));
    };
    std::string host;
    std::string port;
    if (!address.empty() && address.front() == '[') {
        const auto close = address.find(']');
        if (close == std::string::npos || address.compare(close + 1, 1, ":") != 0) {
            throw bad("expected [IPv6]:PORT");
        }
        host = address.substr(1, close - 1);
        port = address.substr(close + 2);
        if (host.empty()) {
            throw bad("expected an IPv6 address in the brackets");
        }
    } else {
        const auto colon = address.rfind(':');
        if (colon == std::string::npos) {
            throw bad("expected HOST:PORT or :PORT");
        }
        host = address.substr(0, colon);
        port = address.substr(colon + 1);
        if (host.find(':') != std::string::npos) {
            throw bad("an IPv6 address goes in brackets, as [::1]:8080");
        }
    }
    int number = -1;
    const auto* end = port.data() + port.size();
    if (port.empty() || std::from_chars(port.data(), end, number).ptr != end || number < 0 ||
        number > 65535) {
        throw bad("the port must be a number from 0 to 65535");
    }
    return BindAddress{host, number};
}

}  // namespace cmsync::controller
