#include "http_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

TestConnection::TestConnection(int port, const char* host) {
    sockaddr_storage address{};
    socklen_t length = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (::inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        length = sizeof *v4;
    } else if (::inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        length = sizeof *v6;
    } else {
        throw std::runtime_error(std::string("test client: not an address: ") + host);
    }
    fd_ = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const timeval timeout{5, 0};
    if (fd_ < 0 || ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        throw std::runtime_error("test client: cannot connect");
    }
}

TestConnection::~TestConnection() {
    ::close(fd_);
}

bool TestConnection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool TestConnection::fill() {
    char chunk[4096];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
        return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

std::optional<HttpReply> TestConnection::reply(bool head_only) {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill()) {
            return std::nullopt;
        }
    }
    HttpReply r;
    const auto head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    // "HTTP/1.1 200 OK"
    if (head.compare(0, 9, "HTTP/1.1 ") != 0) {
        return std::nullopt;
    }
    r.status = std::stoi(head.substr(9, 3));
    for (auto line = head.find("\r\n") + 2; line < head.size();) {
        const auto next = head.find("\r\n", line);
        const auto colon = head.find(':', line);
        auto name = head.substr(line, colon - line);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        auto value = head.substr(colon + 1, next - colon - 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers[name] = value;
        line = next + 2;
    }
    const auto length = r.headers.count("content-length") != 0
                            ? std::stoul(r.headers["content-length"])
                            : std::size_t{0};
    if (!head_only) {
        while (buffer_.size() < length) {
            if (!fill()) {
                return std::nullopt;
            }
        }
        r.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
    }
    return r;
}

bool TestConnection::closed_within(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::max<decltype(left)>(left, 0))) <= 0) {
            return false;
        }
        char chunk[4096];
        if (::recv(fd_, chunk, sizeof chunk, 0) <= 0) {
            return true;
        }
    }
}

std::optional<HttpReply> http_get(int port, const std::string& path, const char* host) {
    try {
        TestConnection c(port, host);
        if (!c.send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")) {
            return std::nullopt;
        }
        return c.reply();
    } catch (const std::runtime_error&) {
        return std::nullopt;
    }
}
