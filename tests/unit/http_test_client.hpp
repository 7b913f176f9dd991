#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

/// One HTTP response as a test client read it.
struct HttpReply {
    int status = 0;
    std::map<std::string, std::string> headers;  ///< names lowercased
    std::string body;
};

/// A blocking client connection to a local server for tests: what is sent goes out as given
/// (half requests, pipelined ones, garbage), replies are read one at a time by Content-Length.
/// Reads give up after 5 s. Unit tests only.
class TestConnection {
  public:
    /// Connects to `host` ("127.0.0.1", "::1") on `port`; throws std::runtime_error if it cannot.
    explicit TestConnection(int port, const char* host = "127.0.0.1");
    ~TestConnection();
    TestConnection(const TestConnection&) = delete;
    TestConnection& operator=(const TestConnection&) = delete;

    int fd() const { return fd_; }
    /// Sends all of `bytes`; false once the server has closed or reset the connection.
    bool send(std::string_view bytes);
    /// The next reply (for a HEAD request, `head_only`: no body is read whatever its
    /// Content-Length says); nothing when the connection ends or 5 s pass first.
    std::optional<HttpReply> reply(bool head_only = false);
    /// Whether the server ends the connection (end of stream or reset) within `limit`, what
    /// else arrives being dropped.
    bool closed_within(std::chrono::milliseconds limit);

  private:
    bool fill();

    int fd_ = -1;
    std::string buffer_;
};

/// GET `path` with "Connection: close" on a new connection; nothing when there is no reply
/// (nor a connection).
std::optional<HttpReply> http_get(int port, const std::string& path,
                                  const char* host = "127.0.0.1");
