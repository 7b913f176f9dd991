#include "http/throttle.hpp"

#include <algorithm>

namespace cmsync::http {

void ThrottleWindow::answered(long status, int epoch, int in_flight, Clock::time_point now) {
    if (status == 429) {
        if (epoch != cuts_) {
            return;  // sent before the last cut: the same signal
        }
        ++cuts_;
        last_cut_ = now;
        limit_ = std::max(1, std::min(limit_, std::max(in_flight, 1)) / 2);
        threshold_ = limit_;
        successes_ = 0;
    } else if (status > 0 && limit_ < ceiling_ && in_flight >= limit_) {
        // Grows only while it is used up: a window never tested by load is no evidence.
        if (cuts_ > 0 && now - last_cut_ >= kEpisode) {
            threshold_ = ceiling_;  // the throttled episode is over
        }
        if (limit_ < threshold_ || ++successes_ >= limit_) {
            ++limit_;
            successes_ = 0;
        }
    }
}

std::optional<int> Throttle::acquire(std::optional<ThrottleWindow::Clock::time_point> until) {
    std::unique_lock lock(mutex_);
    const auto has_room = [this] { return in_flight_ < window_.limit(); };
    if (until) {
        if (!freed_.wait_until(lock, *until, has_room)) {
            return std::nullopt;
        }
    } else {
        freed_.wait(lock, has_room);
    }
    ++in_flight_;
    return window_.epoch();
}

void Throttle::release(int epoch, long status) {
    {
        std::lock_guard lock(mutex_);
        window_.answered(status, epoch, in_flight_, ThrottleWindow::Clock::now());
        --in_flight_;
    }
    freed_.notify_all();
}

int Throttle::limit() const {
    std::lock_guard lock(mutex_);
    return window_.limit();
}

}  // namespace cmsync::http
