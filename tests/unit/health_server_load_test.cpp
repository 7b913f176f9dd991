// Issue 26, item 9: probes are answered at once while 200 clients hold half-sent requests and
// one sends a 64 MiB header, and the server's memory stays bounded meanwhile.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/health_server.hpp"
#include "http_test_client.hpp"
#include "proc_status.hpp"

using namespace cmsync::controller;
using namespace std::chrono_literals;

namespace {

// This process's resident set in KiB (the server runs in it).
long resident_kib() {
    return std::max(0L, cmsync::proc_status("VmRSS"));
}

}  // namespace

TEST_CASE("HealthServer: probes answer fast while 200 clients stall and one sends 64 MiB") {
    HealthServer server("127.0.0.1:0", {});
    const auto before = resident_kib();
    std::vector<std::unique_ptr<TestConnection>> stalled;
    for (int i = 0; i < 200; ++i) {
        stalled.push_back(std::make_unique<TestConnection>(server.port()));
        REQUIRE(stalled.back()->send("GET /healthz HTTP/1.1\r\nHost: h\r\n"));
    }
    std::atomic<bool> probing{true};
    std::size_t sent = 0;
    std::thread big([&] {
        // Never reads the 431: sends until the server closes, as a hostile client would, and
        // again on a new connection, until 64 MiB have gone or the probes are done.
        const std::string chunk(64 * 1024, 'a');
        while (probing && sent < 64 * 1024 * 1024) {
            TestConnection c(server.port());
            if (!c.send("GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: ")) {
                continue;
            }
            for (; sent < 64 * 1024 * 1024 && c.send(chunk); sent += chunk.size()) {
            }
        }
    });
    std::vector<double> latencies;
    long peak = before;
    for (int i = 0; i < 50; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const auto reply = http_get(server.port(), i % 2 == 0 ? "/healthz" : "/readyz");
        latencies.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
        REQUIRE(reply);
        CHECK(reply->status == 200);
        peak = std::max(peak, resident_kib());
        std::this_thread::sleep_for(20ms);
    }
    probing = false;
    big.join();
    peak = std::max(peak, resident_kib());
    std::sort(latencies.begin(), latencies.end());
    MESSAGE("probe latency ms: median "
            << latencies[latencies.size() / 2] << ", max " << latencies.back() << "; big header: "
            << sent / 1024 << " KiB sent; resident set +" << (peak - before) << " KiB");
    CHECK(latencies.back() < 1000);
    // 128 connections of at most 16 KiB each, and slack for the allocator.
    CHECK(peak - before < 16 * 1024);
    // The first 72 stalled clients made room for newer ones: the cap holds.
    int closed = 0;
    for (auto& c : stalled) {
        closed += c->closed_within(1ms) ? 1 : 0;
    }
    MESSAGE(closed << " of the 200 stalled connections were closed by the server");
    CHECK(closed >= 72);
}
