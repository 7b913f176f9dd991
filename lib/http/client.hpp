#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/throttle.hpp"
#include "http/transport.hpp"

namespace cmsync::http {

using LogSink = std::function<void(const std::string&)>;
using Sleeper = std::function<void(std::chrono::milliseconds)>;
/// Told of one finished attempt: its method, its status (0: no answer, a transport error) and
/// how long it took in seconds.
using RequestObserver = std::function<void(const std::string& method, long status, double seconds)>;
/// What of a request's or response's body (of the request to `url`) may be logged at -v 8.
using BodyRedactor = std::function<std::string(const std::string& url, const std::string& body)>;

struct ClientOptions {
    /// kubectl-style verbosity: 6 logs request lines and statuses, 7 headers, 8 bodies.
    int verbosity = 0;
    LogSink log;
    /// Attempts in all, including the first.
    int max_attempts = 5;
    /// Attempts in all while the server answers 429 with Retry-After (client-go: 10 retries).
    int max_throttled_attempts = 11;
    /// Requests in flight, adapted to the server's 429s; shared by the clients of one
    /// connection that should slow down together. Empty: no limit.
    std::shared_ptr<Throttle> throttle;
    Sleeper sleep;                   ///< defaults to std::this_thread::sleep_for
    std::function<double()> jitter;  ///< a number in [0, 1); defaults to a random one
    /// What one `send` may take in all, retries and pauses included (--request-timeout, as the
    /// user sees it); zero: no limit.
    std::chrono::milliseconds request_budget{0};
    /// No `send` runs past this (completion's limit for all its requests); the epoch: none.
    std::chrono::steady_clock::time_point deadline{};
    std::function<std::chrono::steady_clock::time_point()> now;  ///< defaults to steady_clock
    /// Called once per attempt of `send` (a retried request is observed each time, as
    /// client-go's request latency metric), never for `stream`: a watch lasts as long as its
    /// timeout, which is no latency. Called on the sending thread; empty: none.
    RequestObserver observe;
    /// Applied to every body before it is logged (kube::redact_body_for_log knows which kinds
    /// hold secret values); empty: bodies are logged as they are.
    BodyRedactor redact_body;
};

/// Whether and how long to wait before attempt `attempt + 1` (attempt counts from 1).
/// Retries: 429 and 5xx only when they carry Retry-After (honoured, at most 30 s); transport
/// errors (`status` empty) for GET only, with jittered exponential backoff. The caller passes
/// the attempts allowed for that answer (ClientOptions::max_throttled_attempts for a 429).
std::optional<std::chrono::milliseconds> retry_delay(const std::string& method,
                                                     std::optional<long> status,
                                                     const std::string& retry_after, int attempt,
                                                     int max_attempts, double jitter);

/// Transport plus retries and request logging with credentials redacted.
class Client {
  public:
    Client(Transport& transport, ClientOptions options);
    /// Sends with retries within the request budget and the deadline; throws TransportError
    /// when the last attempt fails to connect or the time is spent.
    Response send(const Request& request);
    /// Opens a stream without retries (a watch re-opens on its own terms) and returns at once
    /// (Transport::open_stream): `ended` is told how it ended, after the response is logged.
    void open_stream(const Request& request, BodySink sink, CancelCheck cancelled,
                     StreamEnded ended);
    /// Has open streams poll their CancelCheck now (Transport::wake_streams).
    void wake_streams() { transport_.wake_streams(); }
    /// The verbosity requests are logged at.
    int verbosity() const { return options_.verbosity; }

  private:
    /// When a `send` starting now must be done: budget and deadline, the earlier; none.
    std::optional<std::chrono::steady_clock::time_point> end_of_request() const;
    /// Tells options_.observe of an attempt that started at `start`.
    void observe(const Request& request, long status,
                 std::chrono::steady_clock::time_point start) const;
    void log_request(const Request& request) const;
    /// "LABEL: body", redacted and clipped, for -v 8.
    void log_body(const char* label, const Request& request, const std::string& body) const;
    void log_response(const Request& request, const Response& response,
                      std::chrono::milliseconds took) const;

    Transport& transport_;
    ClientOptions options_;
};

}  // namespace cmsync::http
