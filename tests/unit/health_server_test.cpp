// The health and metrics endpoints, served on a free loopback port and fetched over HTTP.
#include "controller/health_server.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>

#include "error.hpp"

using namespace cmsync;
using namespace cmsync::controller;

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

TEST_CASE("HealthServer answers /healthz, /readyz, /metrics and 404 otherwise") {
    std::atomic<bool> alive{true};
    std::atomic<bool> ready{false};
    HealthServer server("127.0.0.1:0", {[&] { return alive.load(); }, [&] { return ready.load(); },
                                        [] { return std::string("# HELP x X.\n"); }});
    REQUIRE(server.port() > 0);
    httplib::Client client("127.0.0.1", server.port());
    const struct {
        const char* path;
        bool alive;
        bool ready;
        int status;
        const char* body;
    } rows[] = {{"/healthz", true, false, 200, "ok\n"},
                {"/healthz", false, false, 500, "event loop stalled\n"},
                {"/readyz", true, false, 503, "not ready\n"},
                {"/readyz", true, true, 200, "ok\n"},
                {"/metrics", true, true, 200, "# HELP x X.\n"},
                {"/nothing", true, true, 404, ""}};
    for (const auto& row : rows) {
        SUBCASE((std::string(row.path) + (row.alive ? " alive" : "") + (row.ready ? " ready" : ""))
                    .c_str()) {
            alive = row.alive;
            ready = row.ready;
            const auto res = client.Get(row.path);
            REQUIRE(static_cast<bool>(res));
            CHECK(res->status == row.status);
            CHECK(res->body == row.body);
            if (std::string(row.path) == "/metrics") {
                CHECK(res->get_header_value("Content-Type") ==
                      "text/plain; version=0.0.4; charset=utf-8");
            }
        }
    }
    server.stop();
    server.stop();  // idempotent
    CHECK_FALSE(static_cast<bool>(client.Get("/healthz")));
}

TEST_CASE("HealthServer: a taken port is a one-line error") {
    HealthServer first("127.0.0.1:0", {});
    const auto address = "127.0.0.1:" + std::to_string(first.port());
    const auto message = "cannot listen on " + address + ": Address already in use";
    CHECK_THROWS_WITH_AS(HealthServer(address, {}), message.c_str(), Error);
}

TEST_CASE("HealthServer: \":PORT\" listens on every address, IPv4 loopback included") {
    HealthServer server(":0", {});
    httplib::Client client("127.0.0.1", server.port());
    const auto res = client.Get("/healthz");
    REQUIRE(static_cast<bool>(res));
    CHECK(res->status == 200);
}

TEST_CASE("HealthServer: a bad address fails before any socket") {
    CHECK_THROWS_AS(HealthServer("nonsense", {}), UsageError);
}
