// The health and metrics endpoints, served on a free loopback port and fetched over HTTP with
// a raw test client: routes, keep-alive, limits and timeouts.
#include "controller/health_server.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "error.hpp"
#include "http_test_client.hpp"

using namespace cmsync;
using namespace cmsync::controller;
using namespace std::chrono_literals;

namespace {

// The reply's status; 0 when there was none.
int status(const std::optional<HttpReply>& reply) {
    return reply ? reply->status : 0;
}

// A header of the reply; "<no reply>" when there was none.
std::string header(const std::optional<HttpReply>& reply, const std::string& name) {
    return reply ? (reply->headers.count(name) != 0 ? reply->headers.at(name) : "") : "<no reply>";
}

}  // namespace

TEST_CASE("parse_bind_address") {
    const struct {
        const char* in;
        const char* host;
        int port;
    } rows[] = {{":8080", "", 8080},
                {"0.0.0.0:8080", "0.0.0.0", 8080},
                {"127.0.0.1:0", "127.0.0.1", 0},
                {"[::1]:8080", "::1", 8080},
                {"localhost:65535", "localhost", 65535}};
    for (const auto& row : rows) {
        SUBCASE(row.in) {
            const auto b = parse_bind_address(row.in);
            CHECK(b.host == row.host);
            CHECK(b.port == row.port);
        }
    }
    const struct {
        const char* in;
        const char* error;
    } bad[] = {{"8080", "expected HOST:PORT or :PORT"},
               {"", "expected HOST:PORT or :PORT"},
               {"host:", "the port must be a number from 0 to 65535"},
               {"host:http", "the port must be a number from 0 to 65535"},
               {"host:65536", "the port must be a number from 0 to 65535"},
               {"host:-1", "the port must be a number from 0 to 65535"},
               {"::1:8080", "an IPv6 address goes in brackets, as [::1]:8080"},
               {"[::1]8080", "expected [IPv6]:PORT"},
               {"[]:8080", "expected an IPv6 address in the brackets"}};
    for (const auto& row : bad) {
        SUBCASE(row.in) {
            const auto message =
                std::string("invalid bind address \"") + row.in + "\": " + row.error;
            CHECK_THROWS_WITH_AS(parse_bind_address(row.in), message.c_str(), UsageError);
        }
    }
}

TEST_CASE("HealthServer answers /healthz, /readyz, /metrics; 404 and 405 otherwise") {
    std::atomic<bool> alive{true};
    std::atomic<bool> ready{false};
    HealthServer server("127.0.0.1:0",
                        {[&] { return alive.load(); }, [&] { return ready.load(); },
                         [] { return std::string("# HELP x X.\n"); },
                         [] { return std::string("cluster member-b: unreachable\n"); }});
    REQUIRE(server.port() > 0);
    // Every row on one kept-alive connection.
    TestConnection c(server.port());
    const struct {
        const char* method;
        const char* path;
        bool alive;
        bool ready;
        int status;
        const char* body;
        const char* length;
    } rows[] = {
        {"GET", "/healthz", true, false, 200, "ok\n", "3"},
        {"GET", "/healthz", false, false, 500, "event loop stalled\n", "19"},
        // why, naming the cluster that cannot be reached
        {"GET", "/readyz", true, false, 503, "not ready\ncluster member-b: unreachable\n", "40"},
        {"GET", "/readyz?verbose", true, true, 200, "ok\n", "3"},
        {"GET", "/metrics", true, true, 200, "# HELP x X.\n", "12"},
        {"HEAD", "/metrics", true, true, 200, "", "12"},
        {"GET", "/nothing", true, true, 404, "not found\n", "10"},
        {"DELETE", "/healthz", true, true, 405, "method not allowed\n", "19"}};
    for (const auto& row : rows) {
        alive = row.alive;
        ready = row.ready;
        CAPTURE(row.method);
        CAPTURE(row.path);
        REQUIRE(
            c.send(std::string(row.method) + " " + row.path + " HTTP/1.1\r\nHost: probe\r\n\r\n"));
        const auto reply = c.reply(std::string(row.method) == "HEAD");
        REQUIRE(reply);
        CHECK(reply->status == row.status);
        CHECK(reply->body == row.body);
        CHECK(header(reply, "content-length") == row.length);
        CHECK(reply->headers.count("connection") == 0);
        CHECK(header(reply, "content-type") ==
              (std::string(row.path) == "/metrics" && row.status == 200
                   ? "text/plain; version=0.0.4; charset=utf-8"
                   : "text/plain; charset=utf-8"));
        if (row.status == 405) {
            CHECK(header(reply, "allow") == "GET, HEAD");
        }
    }
    server.stop();
    server.stop();  // idempotent
    CHECK_FALSE(http_get(server.port(), "/healthz"));
}

TEST_CASE("HealthServer: a failing callback is a failed probe or a 500") {
    HealthServer server("127.0.0.1:0",
                        {[]() -> bool { throw std::runtime_error("x"); }, nullptr,
                         []() -> std::string { throw std::runtime_error("x"); }, nullptr});
    CHECK(status(http_get(server.port(), "/healthz")) == 500);
    CHECK(status(http_get(server.port(), "/readyz")) == 200);  // no callback: ready
    const auto metrics = http_get(server.port(), "/metrics");
    REQUIRE(metrics);
    CHECK(metrics->status == 500);
    CHECK(metrics->body == "internal error\n");
}

TEST_CASE("HealthServer: connections kept alive and closed") {
    HealthServer server("127.0.0.1:0", {});
    SUBCASE("pipelined requests are answered in order") {
        TestConnection c(server.port());
        REQUIRE(
            c.send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\nGET /nothing HTTP/1.1\r\n"
                   "Host: h\r\n\r\nGET /readyz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
        CHECK(status(c.reply()) == 200);
        CHECK(status(c.reply()) == 404);
        const auto last = c.reply();
        REQUIRE(last);
        CHECK(last->status == 200);
        CHECK(header(last, "connection") == "close");
        CHECK(c.closed_within(2s));
    }
    SUBCASE("HTTP/1.0 closes unless it asks to keep the connection") {
        TestConnection c(server.port());
        REQUIRE(c.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        CHECK(header(c.reply(), "connection") == "keep-alive");
        REQUIRE(c.send("GET /healthz HTTP/1.0\r\n\r\n"));
        CHECK(header(c.reply(), "connection") == "close");
        CHECK(c.closed_within(2s));
    }
    SUBCASE("a request with a body is answered and the connection closed, body unread") {
        TestConnection c(server.port());
        REQUIRE(c.send("POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"));
        const auto reply = c.reply();
        REQUIRE(reply);
        CHECK(reply->status == 405);
        CHECK(header(reply, "connection") == "close");
        CHECK(c.closed_within(2s));
    }
    SUBCASE("a client that ends its side after the request still gets the answer") {
        TestConnection c(server.port());
        REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"));
        ::shutdown(c.fd(), SHUT_WR);
        CHECK(status(c.reply()) == 200);
        CHECK(c.closed_within(2s));
    }
    SUBCASE("a malformed request is 400, then the connection closes") {
        TestConnection c(server.port());
        REQUIRE(c.send("GET / HTTP/1.1\r\n\r\n"));
        const auto reply = c.reply();
        REQUIRE(reply);
        CHECK(reply->status == 400);
        CHECK(reply->body == "missing Host header\n");
        CHECK(c.closed_within(2s));
    }
    SUBCASE("a header past 16 KiB is 431, the rest dropped unread") {
        TestConnection c(server.port());
        REQUIRE(c.send("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20'000, 'a')));
        const auto reply = c.reply();
        REQUIRE(reply);
        CHECK(reply->status == 431);
        CHECK(reply->body == "request header fields too large\n");
        CHECK(c.closed_within(3s));
    }
}

TEST_CASE("HealthServer: timeouts") {
    ServerLimits limits;
    limits.read_header_timeout = 200ms;
    limits.idle_timeout = 300ms;
    HealthServer server("127.0.0.1:0", {}, limits);
    SUBCASE("half a request is dropped after the read-header timeout") {
        TestConnection c(server.port());
        REQUIRE(c.send("GET /healthz HTTP/1.1\r\n"));
        CHECK(c.closed_within(2s));
    }
    SUBCASE("a kept-alive connection is dropped after the idle timeout") {
        TestConnection c(server.port());
        REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"));
        CHECK(status(c.reply()) == 200);
        CHECK(c.closed_within(2s));
    }
}

TEST_CASE("HealthServer: a full server closes the oldest half-open connection for a new one") {
    ServerLimits limits;
    limits.max_connections = 4;
    HealthServer server("127.0.0.1:0", {}, limits);
    std::vector<std::unique_ptr<TestConnection>> half_open;
    for (int i = 0; i < 4; ++i) {
        half_open.push_back(std::make_unique<TestConnection>(server.port()));
        REQUIRE(half_open.back()->send("GET /healthz HTTP/1.1\r\n"));
        std::this_thread::sleep_for(20ms);  // accepted in this order
    }
    // The probes stay connected (kept alive), so the server stays full.
    std::vector<std::unique_ptr<TestConnection>> probes;
    for (std::size_t i = 0; i < 2; ++i) {
        probes.push_back(std::make_unique<TestConnection>(server.port()));
        REQUIRE(probes.back()->send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"));
        CHECK(status(probes.back()->reply()) == 200);
        CHECK(half_open[i]->closed_within(1s));
    }
    CHECK_FALSE(half_open[2]->closed_within(50ms));
    CHECK_FALSE(half_open[3]->closed_within(50ms));
}

TEST_CASE("HealthServer: a taken port is a one-line error") {
    HealthServer first("127.0.0.1:0", {});
    const auto address = "127.0.0.1:" + std::to_string(first.port());
    const auto message = "cannot listen on " + address + ": Address already in use";
    CHECK_THROWS_WITH_AS(HealthServer(address, {}), message.c_str(), Error);
}

TEST_CASE("HealthServer: \":PORT\" listens on every address, IPv4 loopback included") {
    HealthServer server(":0", {});
    const auto reply = http_get(server.port(), "/healthz");
    REQUIRE(reply);
    CHECK(reply->status == 200);
}

TEST_CASE("HealthServer: an IPv6 address") {
    std::unique_ptr<HealthServer> server;
    try {
        server = std::make_unique<HealthServer>("[::1]:0", HealthCallbacks{});
    } catch (const Error& e) {
        MESSAGE("no IPv6 loopback here: " << e.what());
        return;
    }
    const auto reply = http_get(server->port(), "/healthz", "::1");
    REQUIRE(reply);
    CHECK(reply->status == 200);
}

TEST_CASE("HealthServer: a bad address fails before any socket") {
    CHECK_THROWS_AS(HealthServer("nonsense", {}), UsageError);
}
