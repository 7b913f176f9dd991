#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace cmsync {

/// Waits up to `limit` for `done` (polled every 10 ms); whether it came.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::seconds limit = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

}  // namespace cmsync
