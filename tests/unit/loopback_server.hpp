#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

/// A small HTTP server on 127.0.0.1 for tests of the curl transport against hostile answers:
/// one connection at a time, whose request head is read and handed to `respond`, which writes
/// whatever it likes to the socket. Unit tests only.
class LoopbackServer {
  public:
    using Respond = std::function<void(int fd, const std::string& head)>;
    explicit LoopbackServer(Respond respond);
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    /// "http://127.0.0.1:PORT".
    std::string url() const;
    int port() const { return port_; }
    /// The request heads received so far (request line and headers).
    std::vector<std::string> heads() const;

  private:
    void loop();

    int listener_ = -1;
    int port_ = 0;
    Respond respond_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<std::string> heads_;
    std::thread thread_;
};

/// Writes all of `bytes` to `fd`; false once the peer has gone (no SIGPIPE).
bool send_all(int fd, std::string_view bytes);
