#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace cmsync::http {

/// How many requests may be in flight to one server, adapted to its answers as TCP adapts its
/// congestion window: slow start from `initial` (one more per answer, so the window doubles
/// per round trip) up to `ceiling`; a 429 (API Priority and Fairness or max-in-flight turned
/// a request away) halves it, from what was in flight; after that it grows by one per window
/// of answers. It grows only while it is full (a window no load tested is no evidence), and
/// only a 429 of a request sent since the last cut cuts again: the rest of the same burst is
/// the same signal. A minute without a 429 ends the episode: slow start again, so a
/// long-running `watch` throttled once is not held to a small window for the rest of its life.
/// Pure state: the caller tells the time.
class ThrottleWindow {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds kEpisode{60};
    explicit ThrottleWindow(int ceiling = 256, int initial = 8)
        : ceiling_(ceiling), limit_(std::min(initial, ceiling)), threshold_(ceiling) {}
    /// The epoch a request sent now belongs to; give it back to `answered`.
    int epoch() const { return cuts_; }
    /// A request of `epoch` was answered with `status` (0: no answer, which changes nothing)
    /// while `in_flight` requests, itself included, were out.
    void answered(long status, int epoch, int in_flight, Clock::time_point now);
    int limit() const { return limit_; }

  private:
    int ceiling_;
    int limit_;
    int threshold_;  ///< slow start below it, one per window above
    int successes_ = 0;
    int cuts_ = 0;
    Clock::time_point last_cut_{};
};

/// A ThrottleWindow shared by every thread sending through one connection.
class Throttle {
  public:
    explicit Throttle(int ceiling = 256, int initial = 8) : window_(ceiling, initial) {}
    /// Takes a slot, waiting while the window is full; the slot's epoch, or nothing if
    /// `until` came first.
    std::optional<int> acquire(std::optional<ThrottleWindow::Clock::time_point> until);
    /// Gives the slot back with the attempt's status (0: no answer).
    void release(int epoch, long status);
    int limit() const;

  private:
    mutable std::mutex mutex_;
    std::condition_variable freed_;
    ThrottleWindow window_;
    int in_flight_ = 0;
};

}  // namespace cmsync::http
