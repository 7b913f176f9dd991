#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "http/client.hpp"
#include "http/throttle.hpp"

using namespace cmsync::http;
using namespace std::chrono_literals;

namespace {

const ThrottleWindow::Clock::time_point t0{std::chrono::hours(1)};

// Answers `n` requests of the current epoch with `status`, `in_flight` out at each answer.
void answer(ThrottleWindow& w, int n, long status, int in_flight,
            ThrottleWindow::Clock::time_point at = t0) {
    for (int i = 0; i < n; ++i) {
        w.answered(status, w.epoch(), in_flight, at);
    }
}

}  // namespace

TEST_CASE("ThrottleWindow: slow start, halving on 429, one cut per burst, growth only when full") {
    ThrottleWindow w(64, 8);
    CHECK(w.limit() == 8);
    SUBCASE("slow start: one more per answer while full, up to the ceiling") {
        answer(w, 8, 200, 64);
        CHECK(w.limit() == 16);
        answer(w, 100, 201, 64);
        CHECK(w.limit() == 64);
    }
    SUBCASE("a window that is not full does not grow") {
        answer(w, 100, 200, 3);
        CHECK(w.limit() == 8);
    }
    SUBCASE("404 and 409 are answers too: the server had room for them") {
        answer(w, 2, 404, 64);
        answer(w, 2, 409, 64);
        CHECK(w.limit() == 12);
    }
    SUBCASE("no answer (a transport error) changes nothing") {
        answer(w, 5, 0, 8);
        CHECK(w.limit() == 8);
    }
    SUBCASE("429 halves what was in flight, once per burst") {
        const int sent = w.epoch();
        w.answered(429, sent, 8, t0);
        CHECK(w.limit() == 4);
        w.answered(429, sent, 7, t0);  // the same burst: sent before the cut
        w.answered(429, sent, 6, t0);
        CHECK(w.limit() == 4);
        w.answered(429, w.epoch(), 4, t0);  // sent after it: a new signal
        CHECK(w.limit() == 2);
        w.answered(429, w.epoch(), 2, t0);
        w.answered(429, w.epoch(), 1, t0);
        CHECK(w.limit() == 1);  // never below one
    }
    SUBCASE("after a cut it grows by one per window of answers") {
        w.answered(429, w.epoch(), 8, t0);
        REQUIRE(w.limit() == 4);
        answer(w, 3, 200, 4);
        CHECK(w.limit() == 4);
        answer(w, 1, 200, 4);
        CHECK(w.limit() == 5);
        answer(w, 5, 200, 5);
        CHECK(w.limit() == 6);
    }
    SUBCASE("a minute without a 429 ends the episode: slow start again") {
        w.answered(429, w.epoch(), 8, t0);
        w.answered(429, w.epoch(), 4, t0);
        REQUIRE(w.limit() == 2);
        answer(w, 4, 200, 64, t0 + 30s);  // within the episode: one per window
        CHECK(w.limit() == 3);
        answer(w, 5, 200, 64, t0 + 60s);  // after it: one per answer
        CHECK(w.limit() == 8);
        w.answered(429, w.epoch(), 8, t0 + 61s);  // a new episode halves again
        CHECK(w.limit() == 4);
        answer(w, 4, 200, 64, t0 + 62s);
        CHECK(w.limit() == 5);
    }
    SUBCASE("a cut from a window larger than the load halves the load") {
        answer(w, 56, 200, 64);
        REQUIRE(w.limit() == 64);
        w.answered(429, w.epoch(), 10, t0);
        CHECK(w.limit() == 5);
    }
}

TEST_CASE("Throttle: no more in flight than the window; a full window waits, or times out") {
    Throttle t(4, 2);
    const auto a = t.acquire(std::nullopt);
    const auto b = t.acquire(std::nullopt);
    REQUIRE(a);
    REQUIRE(b);
    CHECK_FALSE(t.acquire(std::chrono::steady_clock::now() + 20ms));
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        const auto c = t.acquire(std::nullopt);
        got = c.has_value();
        t.release(*c, 200);
    });
    std::this_thread::sleep_for(20ms);
    CHECK_FALSE(got);
    t.release(*a, 200);
    waiter.join();
    CHECK(got);
    t.release(*b, 200);
}

namespace {

// A server with `seats` that turns away (429, Retry-After: 0) whatever comes beyond them.
class SeatedTransport : public Transport {
  public:
    explicit SeatedTransport(int seats) : seats_(seats) {}
    Response send(const Request&) override {
        const int now = ++in_flight_;
        int seen = peak_.load();
        while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(2ms);
        --in_flight_;
        if (now > seats_) {
            ++rejected_;
            return Response{429, {{"Retry-After", "0"}}, "Too many requests"};
        }
        return Response{201, {}, "{}"};
    }
    Response stream(const Request& r, const BodySink&, const CancelCheck&) override {
        return send(r);
    }
    int seats_;
    std::atomic<int> in_flight_{0};
    std::atomic<int> peak_{0};
    std::atomic<int> rejected_{0};
};

int run(SeatedTransport& server, std::shared_ptr<Throttle> throttle, int threads, int each) {
    ClientOptions options;
    options.throttle = std::move(throttle);
    options.max_throttled_attempts = 50;
    Client client(server, options);
    std::atomic<int> failed{0};
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&] {
            for (int j = 0; j < each; ++j) {
                if (client.send(Request{"POST", "https://s/api", {}, "{}"}).status != 201) {
                    ++failed;
                }
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    return failed;
}

}  // namespace

TEST_CASE(
    "Client with a Throttle: 32 threads against a server of 3 seats all finish, turned "
    "away far less often than without it") {
    // Without: every thread retries at once, so most attempts meet a full server.
    SeatedTransport without(3);
    run(without, nullptr, 32, 20);
    SeatedTransport with(3);
    const auto throttle = std::make_shared<Throttle>();
    CHECK(run(with, throttle, 32, 20) == 0);
    CAPTURE(without.rejected_.load());
    CAPTURE(with.rejected_.load());
    CHECK(without.rejected_ > 640);
    CHECK(with.rejected_ * 10 < without.rejected_);
    CHECK(throttle->limit() <= 8);
}
