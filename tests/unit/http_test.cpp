#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "http/client.hpp"
#include "http/curl_transport.hpp"
#include "loopback_server.hpp"

using namespace cmsync::http;
using namespace std::chrono_literals;

TEST_CASE("retry_delay: 429/5xx only with Retry-After; transport errors for GET only") {
    CHECK(retry_delay("GET", 429, "2", 1, 5, 0.0) == 2000ms);
    CHECK(retry_delay("PUT", 503, "1", 1, 5, 0.0) == 1000ms);
    CHECK(retry_delay("GET", 429, "", 1, 5, 0.0) == std::nullopt);
    CHECK(retry_delay("GET", 500, "soon", 1, 5, 0.0) == std::nullopt);
    CHECK(retry_delay("GET", 404, "1", 1, 5, 0.0) == std::nullopt);
    CHECK(retry_delay("GET", 429, "3600", 1, 5, 0.0) == 30000ms);    // capped
    CHECK(retry_delay("GET", 429, "1", 5, 5, 0.0) == std::nullopt);  // bounded
    CHECK(retry_delay("GET", std::nullopt, "", 1, 5, 0.0) == 200ms);
    CHECK(retry_delay("GET", std::nullopt, "", 3, 5, 0.5) == 1200ms);
    CHECK(retry_delay("POST", std::nullopt, "", 1, 5, 0.0) == std::nullopt);
}

TEST_CASE("redact masks credentials, keeps the scheme") {
    const auto out = redact(
        {{"authorization", "Bearer abc.def"}, {"Accept", "x"}, {"Proxy-Authorization", "s3cret"}});
    CHECK(out[0].second == "Bearer <masked>");
    CHECK(out[1].second == "x");
    CHECK(out[2].second == "<masked>");
}

namespace {

// A scripted Transport: answers from a queue, counting requests. Unit tests only.
class ScriptedTransport : public Transport {
  public:
    std::deque<Response> answers;
    int transport_failures = 0;
    bool transient = true;
    int calls = 0;
    std::vector<std::chrono::milliseconds> timeouts;  ///< each attempt's Request::timeout
    std::function<void(const Request&)> on_send;      ///< e.g. lets a fake clock run
    Response send(const Request& request) override {
        ++calls;
        timeouts.push_back(request.timeout);
        if (on_send) {
            on_send(request);
        }
        if (transport_failures > 0) {
            --transport_failures;
            throw TransportError("cannot reach https://s: refused", transient);
        }
        auto r = answers.front();
        answers.pop_front();
        return r;
    }
    Response stream(const Request& r, const BodySink&, const CancelCheck&) override {
        return send(r);
    }
};

}  // namespace

TEST_CASE("Client retries as retry_delay says and logs with credentials masked") {
    ScriptedTransport t;
    std::vector<std::chrono::milliseconds> slept;
    std::vector<std::string> logs;
    ClientOptions options;
    options.verbosity = 8;
    options.log = [&](const std::string& line) { logs.push_back(line); };
    options.sleep = [&](std::chrono::milliseconds d) { slept.push_back(d); };
    options.jitter = [] { return 0.0; };
    Client client(t, options);
    Request get{"GET", "https://s/api", {{"Authorization", "Bearer sekrit"}}, ""};
    SUBCASE("429 with Retry-After, then success") {
        t.answers = {Response{429, {{"Retry-After", "1"}}, "slow down"}, Response{200, {}, "{}"}};
        CHECK(client.send(get).status == 200);
        CHECK(slept == std::vector<std::chrono::milliseconds>{1000ms});
        for (const auto& line : logs) {
            CHECK(line.find("sekrit") == std::string::npos);
        }
    }
    SUBCASE("-v 8 logs both bodies through the redaction step, with the request's URL") {
        std::vector<std::string> urls;
        Client redacting(t, [&] {
            auto o = options;
            o.redact_body = [&](const std::string& url, const std::string& body) {
                urls.push_back(url);
                return "<" + std::to_string(body.size()) + " bytes>";
            };
            return o;
        }());
        t.answers = {Response{200, {}, "answer"}};
        CHECK(redacting.send(Request{"PUT", "https://s/api/v1/x", {}, "body"}).status == 200);
        CHECK(urls == std::vector<std::string>{"https://s/api/v1/x", "https://s/api/v1/x"});
        CHECK(std::find(logs.begin(), logs.end(), "Request Body: <4 bytes>") != logs.end());
        CHECK(std::find(logs.begin(), logs.end(), "Response Body: <6 bytes>") != logs.end());
        for (const auto& line : logs) {
            CHECK(line.find("answer") == std::string::npos);
        }
    }
    SUBCASE("transient transport errors on GET, then success") {
        t.transport_failures = 2;
        t.answers = {Response{200, {}, ""}};
        CHECK(client.send(get).status == 200);
        CHECK(t.calls == 3);
    }
    SUBCASE("TLS failures are not retried") {
        t.transport_failures = 1;
        t.transient = false;
        CHECK_THROWS_AS(client.send(get), TransportError);
        CHECK(t.calls == 1);
    }
    SUBCASE("a write is not retried after a transport error") {
        t.transport_failures = 1;
        Request put{"PUT", "https://s/api", {}, "{}"};
        CHECK_THROWS_AS(client.send(put), TransportError);
        CHECK(t.calls == 1);
    }
    SUBCASE("retries are bounded") {
        for (int i = 0; i < 5; ++i) {
            t.answers.push_back(Response{503, {{"Retry-After", "0"}}, ""});
        }
        CHECK(client.send(get).status == 503);
        CHECK(t.calls == 5);
    }
}

namespace {

// Client options on a clock the test moves (sleeps move it too), without jitter.
ClientOptions clocked(std::chrono::steady_clock::time_point& clock) {
    ClientOptions options;
    options.now = [&clock] { return clock; };
    options.sleep = [&clock](std::chrono::milliseconds d) { clock += d; };
    options.jitter = [] { return 0.0; };
    return options;
}

}  // namespace

TEST_CASE("--request-timeout is the budget of one request, retries included") {
    // A server that accepts connections and never answers: every attempt times out.
    ScriptedTransport t;
    auto clock = std::chrono::steady_clock::time_point{} + 1h;
    auto options = clocked(clock);
    t.on_send = [&](const Request& r) {
        clock += r.timeout;
        throw TransportError("timed out talking to https://s/api", true);
    };
    const Request get{"GET", "https://s/api", {}, ""};
    SUBCASE("without a budget, each attempt has no limit and retries are bounded by count") {
        t.on_send = [&](const Request&) { throw TransportError("refused", true); };
        Client client(t, options);
        CHECK_THROWS_AS(client.send(get), TransportError);
        CHECK(t.calls == 5);
        CHECK(t.timeouts.front() == 0ms);
    }
    SUBCASE("a budget: the first attempt gets all of it and no retry starts after it") {
        options.request_budget = 2000ms;
        Client client(t, options);
        const auto start = clock;
        CHECK_THROWS_AS(client.send(get), TransportError);
        CHECK(clock - start <= 2000ms);
        CHECK(t.calls == 1);
        CHECK(t.timeouts == std::vector<std::chrono::milliseconds>{2000ms});
    }
    SUBCASE("retries share what is left of the budget") {
        options.request_budget = 2000ms;
        int failures = 0;
        t.on_send = [&](const Request&) {
            clock += 300ms;  // refused after 300 ms, then retried after 200, 400, 800 ms
            if (++failures < 10) {
                throw TransportError("refused", true);
            }
        };
        Client client(t, options);
        const auto start = clock;
        CHECK_THROWS_AS(client.send(get), TransportError);
        CHECK(clock - start <= 2000ms);
        CHECK(t.timeouts == std::vector<std::chrono::milliseconds>{2000ms, 1500ms, 800ms});
    }
    SUBCASE("a deadline bounds every request of a command (completion)") {
        options.request_budget = 3000ms;
        options.deadline = clock + 1000ms;
        Client client(t, options);
        CHECK_THROWS_AS(client.send(get), TransportError);
        CHECK(t.timeouts == std::vector<std::chrono::milliseconds>{1000ms});
        CHECK_THROWS_WITH_AS(client.send(get),
                             "timed out talking to https://s/api: no time left for it",
                             TransportError);
        CHECK(t.calls == 1);
    }
}

TEST_CASE(
    "a request's own deadline (a leader's term) bounds it, and the server is told the time left") {
    ScriptedTransport t;
    auto clock = std::chrono::steady_clock::time_point{} + 1h;
    auto options = clocked(clock);
    options.request_budget = 30000ms;
    std::vector<std::string> urls;
    t.on_send = [&](const Request& r) {
        urls.push_back(r.url);
        clock += 300ms;
    };
    Request put{
        "PUT", "https://s/api/v1/namespaces/a/configmaps/x?fieldManager=kubectl-cmsync", {}, "{}"};
    put.deadline = clock + 2500ms;
    SUBCASE("each attempt: the server's timeout is what is left, and none starts past it") {
        // 429s with Retry-After 1: after 300 + 1000 ms, then 300 + 1000 ms more, no time is left
        // for a third attempt (it would start at 2600 ms).
        for (int i = 0; i < 5; ++i) {
            t.answers.push_back({429, {{"Retry-After", "1"}}, ""});
        }
        Client client(t, options);
        CHECK(client.send(put).status == 429);
        CHECK(urls == std::vector<std::string>{
                          "https://s/api/v1/namespaces/a/configmaps/x?fieldManager=kubectl-cmsync"
                          "&timeout=2500ms",
                          "https://s/api/v1/namespaces/a/configmaps/x?fieldManager=kubectl-cmsync"
                          "&timeout=1200ms"});
        CHECK(t.timeouts == std::vector<std::chrono::milliseconds>{2500ms, 1200ms});
    }
    SUBCASE("a URL without a query gets one") {
        t.answers.push_back({200, {}, "{}"});
        put.url = "https://s/apis/cmsync.io/v1alpha1/clustersyncrules/r/status";
        Client client(t, options);
        CHECK(client.send(put).status == 200);
        CHECK(urls == std::vector<std::string>{
                          "https://s/apis/cmsync.io/v1alpha1/clustersyncrules/r/status?timeout="
                          "2500ms"});
    }
    SUBCASE("past it, nothing is sent") {
        put.deadline = clock - 1ms;
        Client client(t, options);
        CHECK_THROWS_AS(client.send(put), TransportError);
        CHECK(t.calls == 0);
    }
    SUBCASE("without one, no timeout goes to the server") {
        t.answers.push_back({200, {}, "{}"});
        put.deadline = {};
        Client client(t, options);
        client.send(put);
        CHECK(urls.front().find("timeout=") == std::string::npos);
    }
}

TEST_CASE("curl transport: an error body keeps its first 64 KiB and the rest is never read") {
    const std::size_t sent_size = 8 * 1024 * 1024;
    LoopbackServer server([&](int fd, const std::string&) {
        const bool ok = send_all(fd, fmt::format("HTTP/1.1 500 Internal Server Error\r\n"
                                                 "Content-Length: {}\r\n\r\n",
                                                 sent_size));
        const std::string block(64 * 1024, 'x');
        for (std::size_t sent = 0; ok && sent < sent_size && send_all(fd, block);) {
            sent += block.size();
        }
    });
    CurlTransport transport(CurlOptions{});
    const auto response = transport.send(Request{"GET", server.url() + "/api", {}, ""});
    CHECK(response.status == 500);
    CHECK(response.body.size() == kMaxErrorBody);
    SUBCASE("a success body is read whole") {
        LoopbackServer ok([&](int fd, const std::string&) {
            send_all(
                fd, "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + std::string(200000, 'y'));
        });
        CHECK(transport.send(Request{"GET", ok.url() + "/api", {}, ""}).body.size() == 200000);
    }
}

TEST_CASE("curl transport: only http and https go out") {
    LoopbackServer server([](int fd, const std::string&) {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    });
    CurlTransport transport(CurlOptions{});
    for (const auto& url :
         {std::string("file:///etc/passwd"), "dict://127.0.0.1:" + std::to_string(server.port()),
          "gopher://127.0.0.1:" + std::to_string(server.port()) + "/x"}) {
        CAPTURE(url);
        // 5 s at most: dict:// would otherwise wait for the loopback server's answer for ever.
        CHECK_THROWS_AS(transport.send(Request{"GET", url, {}, "", 5s}), TransportError);
    }
    CHECK(server.heads().empty());
    CHECK(transport.send(Request{"GET", server.url(), {}, ""}).status == 200);
}

TEST_CASE("curl transport: errors name the method and the URL dialled, not the TLS name") {
    CurlOptions options;
    options.tls.server_name = "api.internal";
    CurlTransport transport(options);
    CHECK_THROWS_WITH_AS(transport.send(Request{"GET", "http://127.0.0.1:1/api?x=1", {}, ""}),
                         doctest::Contains("cannot reach http://127.0.0.1:1/api (GET): "),
                         TransportError);
}

TEST_CASE("curl transport: a cancel ends a request to a server that never answers") {
    std::atomic<bool> done{false};
    LoopbackServer server([&](int, const std::string&) {
        for (int i = 0; i < 1000 && !done; ++i) {
            std::this_thread::sleep_for(10ms);  // accepted, read, never answered
        }
    });
    const auto start = std::chrono::steady_clock::now();
    CurlOptions options;
    options.cancel = [&] { return std::chrono::steady_clock::now() - start > 200ms; };
    CurlTransport transport(options);
    const Request get{"GET", server.url() + "/api/v1/configmaps?x=1", {}, ""};
    SUBCASE("send throws") {
        CHECK_THROWS_WITH_AS(
            transport.send(get),
            ("gave up on " + server.url() + "/api/v1/configmaps (GET): cancelled").c_str(),
            TransportError);
    }
    SUBCASE("a stream ends") {
        const auto response = transport.stream(
            get, [](std::string_view) { return true; }, nullptr);
        CHECK(response.body.empty());
    }
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    done = true;
}

TEST_CASE("curl transport: wake_streams ends a cancelled quiet stream at once") {
    std::atomic<bool> done{false};
    LoopbackServer server([&](int fd, const std::string&) {
        send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n");
        for (int i = 0; i < 1000 && !done; ++i) {
            std::this_thread::sleep_for(10ms);  // open, and quiet from now on
        }
    });
    CurlTransport transport(CurlOptions{});
    std::atomic<bool> cancel{false};
    std::atomic<bool> got_byte{false};
    std::thread watch([&] {
        transport.stream(
            Request{"GET", server.url() + "/api/v1/configmaps?watch=1", {}, ""},
            [&](std::string_view) { return got_byte = true; }, [&] { return cancel.load(); });
    });
    for (int i = 0; i < 500 && !got_byte; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(got_byte);
    // libcurl looks at a quiet transfer again about 0.2 s after its data, then once a second
    // (libcurl 7.88, measured): 0.3 s in, without the wake-up, the stream would end about
    // 0.9 s after the cancel.
    std::this_thread::sleep_for(300ms);
    const auto start = std::chrono::steady_clock::now();
    cancel = true;
    transport.wake_streams();
    watch.join();
    CHECK(std::chrono::steady_clock::now() - start < 500ms);
    done = true;
}

TEST_CASE("curl transport: open_stream returns at once and tells how the stream ended") {
    std::atomic<bool> done{false};
    LoopbackServer server([&](int fd, const std::string& request) {
        if (request.find("/missing") != std::string::npos) {
            send_all(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone");
            return;
        }
        send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n");
        for (int i = 0; i < 1000 && !done; ++i) {
            std::this_thread::sleep_for(10ms);  // open, and quiet from now on
        }
    });
    CurlTransport transport(CurlOptions{});
    std::mutex mutex;
    std::condition_variable changed;
    std::string body;
    std::optional<Response> ended;
    std::exception_ptr error;
    const auto tell = [&](Response&& response, std::exception_ptr e) {
        std::lock_guard guard(mutex);
        ended = std::move(response);
        error = e;
        changed.notify_all();
    };
    const auto wait_ended = [&] {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 3s, [&] { return ended.has_value(); });
    };
    SUBCASE("an open stream, then cancelled") {
        std::atomic<bool> cancel{false};
        const auto start = std::chrono::steady_clock::now();
        transport.open_stream(
            Request{"GET", server.url() + "/api/v1/configmaps?watch=1", {}, ""},
            [&](std::string_view bytes) {
                std::lock_guard guard(mutex);
                body += bytes;
                changed.notify_all();
                return true;
            },
            [&] { return cancel.load(); }, tell);
        CHECK(std::chrono::steady_clock::now() - start < 100ms);  // nothing waited for
        {
            std::unique_lock lock(mutex);
            REQUIRE(changed.wait_for(lock, 3s, [&] { return body == "ab"; }));
            CHECK_FALSE(ended.has_value());
        }
        cancel = true;
        transport.wake_streams();
        REQUIRE(wait_ended());
        CHECK(ended->status == 200);
        CHECK_FALSE(error);
    }
    SUBCASE("an error answer keeps its body") {
        transport.open_stream(
            Request{"GET", server.url() + "/api/v1/missing?watch=1", {}, ""},
            [&](std::string_view) { return true; }, nullptr, tell);
        REQUIRE(wait_ended());
        CHECK(ended->status == 404);
        CHECK(ended->body == "gone");
        CHECK_FALSE(error);
    }
    SUBCASE("a server that is not there is an error") {
        transport.open_stream(
            Request{"GET", "http://127.0.0.1:1/api/v1/configmaps", {}, ""},
            [&](std::string_view) { return true; }, nullptr, tell);
        REQUIRE(wait_ended());
        CHECK_THROWS_AS(std::rethrow_exception(error), TransportError);
    }
    done = true;
}

TEST_CASE("Client tells the observer of every attempt, never of a stream") {
    ScriptedTransport t;
    std::vector<std::pair<std::string, long>> seen;
    std::vector<double> seconds;
    ClientOptions options;
    options.sleep = [](std::chrono::milliseconds) {};
    options.jitter = [] { return 0.0; };
    options.observe = [&](const std::string& method, long status, double s) {
        seen.emplace_back(method, status);
        seconds.push_back(s);
    };
    Client client(t, options);
    const Request get{"GET", "https://s/api", {}, ""};
    const struct {
        const char* what;
        int failures;
        std::deque<Response> answers;
        std::vector<std::pair<std::string, long>> expected;
    } rows[] = {
        {"one answer", 0, {Response{200, {}, ""}}, {{"GET", 200}}},
        {"a 503 retried",
         0,
         {Response{503, {{"Retry-After", "0"}}, ""}, Response{404, {}, ""}},
         {{"GET", 503}, {"GET", 404}}},
        {"a transport error is status 0", 1, {Response{200, {}, ""}}, {{"GET", 0}, {"GET", 200}}},
    };
    for (const auto& row : rows) {
        SUBCASE(row.what) {
            t.transport_failures = row.failures;
            t.answers = row.answers;
            client.send(get);
            CHECK(seen == row.expected);
            for (const auto s : seconds) {
                CHECK(s >= 0);
                CHECK(s < 5);
            }
        }
    }
    SUBCASE("stream") {
        t.answers = {Response{200, {}, ""}};
        std::promise<long> ended;
        client.open_stream(
            get, [](std::string_view) { return true; }, nullptr,
            [&](Response&& r, std::exception_ptr) { ended.set_value(r.status); });
        CHECK(ended.get_future().get() == 200);
        CHECK(seen.empty());
    }
}
