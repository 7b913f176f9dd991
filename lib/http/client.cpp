#include "http/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <random>
#include <thread>

namespace cmsync::http {

namespace {

constexpr std::chrono::milliseconds kMaxRetryAfter{30000};
constexpr std::size_t kMaxLoggedBody = 16 * 1024;

std::string without_query(const std::string& url) {
    return url.substr(0, url.find('?'));
}

// A slot of the shared throttle for one attempt, given back with the attempt's status (0: no
// answer) when the attempt is over, before any pause for a retry.
class ThrottleSlot {
  public:
    explicit ThrottleSlot(Throttle* throttle) : throttle_(throttle) {}
    ThrottleSlot(const ThrottleSlot&) = delete;
    ThrottleSlot& operator=(const ThrottleSlot&) = delete;
    ~ThrottleSlot() { give_back(); }
    /// Waits for a slot (none without a throttle); false if `until` came first.
    bool take(std::optional<std::chrono::steady_clock::time_point> until) {
        if (throttle_ == nullptr) {
            return true;
        }
        const auto epoch = throttle_->acquire(until);
        taken_ = epoch.has_value();
        epoch_ = epoch.value_or(0);
        return taken_;
    }
    void give_back() {
        if (taken_) {
            throttle_->release(epoch_, status);
            taken_ = false;
        }
    }
    long status = 0;

  private:
    Throttle* throttle_;
    bool taken_ = false;
    int epoch_ = 0;
};

std::string clip(const std::string& body) {
    if (body.size() <= kMaxLoggedBody) {
        return body;
    }
    return body.substr(0, kMaxLoggedBody) + fmt::format("... ({} bytes)", body.size());
}

}  // namespace

std::optional<std::chrono::milliseconds> retry_delay(const std::string& method,
                                                     std::optional<long> status,
                                                     const std::string& retry_after, int attempt,
                                                     int max_attempts, double jitter) {
    if (attempt >= max_attempts) {
        return std::nullopt;
    }
    if (status) {
        if (*status != 429 && *status < 500) {
            return std::nullopt;
        }
        long seconds = -1;
        const auto* end = retry_after.data() + retry_after.size();
        if (std::from_chars(retry_after.data(), end, seconds).ptr != end || seconds < 0 ||
            retry_after.empty()) {
            return std::nullopt;  // client-go retries only when the server says when
        }
        return std::min(std::chrono::milliseconds(seconds * 1000), kMaxRetryAfter);
    }
    if (method != "GET") {
        return std::nullopt;  // a write may have happened; the caller re-reads and re-plans
    }
    const auto base = std::chrono::milliseconds(200) * (1 << std::min(attempt - 1, 6));
    return std::chrono::milliseconds(
        static_cast<long>(static_cast<double>(base.count()) * (1.0 + jitter)));
}

Client::Client(Transport& transport, ClientOptions options)
    : transport_(transport), options_(std::move(options)) {
    if (!options_.sleep) {
        options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
    }
    if (!options_.now) {
        options_.now = [] { return std::chrono::steady_clock::now(); };
    }
    if (!options_.jitter) {
        options_.jitter = [] {
            thread_local std::mt19937 rng{std::random_device{}()};
            return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        };
    }
}

void Client::log_request(const Request& request) const {
    if (options_.verbosity < 7 || !options_.log) {
        return;
    }
    options_.log(fmt::format("{} {}", request.method, request.url));
    for (const auto& [key, value] : redact(request.headers)) {
        options_.log(fmt::format("    {}: {}", key, value));
    }
    if (options_.verbosity >= 8 && !request.body.empty()) {
        log_body("Request Body", request, request.body);
    }
}

void Client::log_body(const char* label, const Request& request, const std::string& body) const {
    const auto shown = options_.redact_body ? options_.redact_body(request.url, body) : body;
    options_.log(fmt::format("{}: {}", label, clip(shown)));
}

void Client::log_response(const Request& request, const Response& response,
                          std::chrono::milliseconds took) const {
    if (options_.verbosity < 6 || !options_.log) {
        return;
    }
    options_.log(fmt::format("{} {} {} in {} milliseconds", request.method, request.url,
                             response.status, took.count()));
    if (options_.verbosity >= 8 && !response.body.empty()) {
        log_body("Response Body", request, response.body);
    }
}

void Client::observe(const Request& request, long status,
                     std::chrono::steady_clock::time_point start) const {
    if (options_.observe) {
        options_.observe(
            request.method, status,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
}

std::optional<std::chrono::steady_clock::time_point> Client::end_of_request() const {
    std::optional<std::chrono::steady_clock::time_point> end;
    if (options_.request_budget.count() > 0) {
        end = options_.now() + options_.request_budget;
    }
    if (options_.deadline != std::chrono::steady_clock::time_point{} &&
        (!end || options_.deadline < *end)) {
        end = options_.deadline;
    }
    return end;
}

Response Client::send(const Request& original) {
    Request request = original;
    auto end = end_of_request();
    const bool bounded = original.deadline != std::chrono::steady_clock::time_point{};
    if (bounded && (!end || original.deadline < *end)) {
        end = original.deadline;
    }
    // A retry only when its pause still leaves time for it (a timeout never multiplies).
    const auto in_time = [&](std::chrono::milliseconds delay) {
        return !end || options_.now() + delay < *end;
    };
    for (int attempt = 1;; ++attempt) {
        ThrottleSlot slot(options_.throttle.get());
        if (!slot.take(end)) {
            throw TransportError(
                fmt::format("timed out talking to {}: the server throttled requests (429) until no "
                            "time was left",
                            without_query(request.url)));
        }
        if (end) {
            request.timeout =
                std::chrono::duration_cast<std::chrono::milliseconds>(*end - options_.now());
            if (request.timeout.count() <= 0) {
                throw TransportError(fmt::format("timed out talking to {}: no time left for it",
                                                 without_query(request.url)));
            }
        }
        if (bounded) {
            // The server's own deadline for this attempt: what is left of the request's.
            request.url = fmt::format("{}{}timeout={}ms", original.url,
                                      original.url.find('?') == std::string::npos ? '?' : '&',
                                      request.timeout.count());
        }
        log_request(request);
        const auto start = std::chrono::steady_clock::now();
        std::optional<std::chrono::milliseconds> delay;
        try {
            Response response = transport_.send(request);
            slot.status = response.status;
            observe(request, response.status, start);
            log_response(request, response,
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start));
            const int attempts = response.status == 429 ? std::max(options_.max_attempts,
                                                                   options_.max_throttled_attempts)
                                                        : options_.max_attempts;
            delay = retry_delay(request.method, response.status, response.header("Retry-After"),
                                attempt, attempts, options_.jitter());
            if (!delay || !in_time(*delay)) {
                return response;
            }
        } catch (const TransportError& e) {
            observe(request, 0, start);
            if (!e.transient()) {
                throw;
            }
            delay = retry_delay(request.method, std::nullopt, "", attempt, options_.max_attempts,
                                options_.jitter());
            if (!delay || !in_time(*delay)) {
                throw;
            }
            if (options_.verbosity >= 6 && options_.log) {
                options_.log(
                    fmt::format("{} {} failed: {}", request.method, request.url, e.what()));
            }
        }
        if (options_.verbosity >= 6 && options_.log) {
            options_.log(fmt::format("retrying in {} ms", delay->count()));
        }
        slot.give_back();  // nobody waits for a slot while this one sleeps
        options_.sleep(*delay);
    }
}

void Client::open_stream(const Request& request, BodySink sink, CancelCheck cancelled,
                         StreamEnded ended) {
    log_request(request);
    if (options_.verbosity == 6 && options_.log) {
        options_.log(fmt::format("{} {} (stream opened)", request.method, request.url));
    }
    const auto start = std::chrono::steady_clock::now();
    // The request is kept for the log line only when there is one to write.
    auto logged =
        options_.verbosity >= 6 && options_.log ? std::make_shared<Request>(request) : nullptr;
    transport_.open_stream(request, std::move(sink), std::move(cancelled),
                           [this, logged, start, ended = std::move(ended)](
                               Response&& response, std::exception_ptr error) {
                               if (logged && !error) {
                                   log_response(
                                       *logged, response,
                                       std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - start));
                               }
                               ended(std::move(response), error);
                           });
}

}  // namespace cmsync::http
