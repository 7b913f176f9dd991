#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cmsync {

/// Calls fn(0) .. fn(n-1) on up to `concurrency` threads; fn must not throw. When given,
/// `while_waiting` runs on the calling thread about every 100 ms until they are done.
inline void parallel_for(std::size_t n, int concurrency, const std::function<void(std::size_t)>& fn,
                         const std::function<void()>& while_waiting = {}) {
    const auto workers =
        std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, concurrency)));
    if (workers <= 1 && !while_waiting) {
        for (std::size_t i = 0; i < n; ++i) {
            fn(i);
        }
        return;
    }
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::condition_variable done_cv;
    std::size_t done = 0;
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) {
        threads.emplace_back([&] {
            for (std::size_t i = next++; i < n; i = next++) {
                fn(i);
            }
            std::lock_guard guard(mutex);
            ++done;
            done_cv.notify_one();
        });
    }
    if (while_waiting) {
        std::unique_lock lock(mutex);
        while (!done_cv.wait_for(lock, std::chrono::milliseconds(100),
                                 [&] { return done == workers; })) {
            lock.unlock();
            while_waiting();
            lock.lock();
        }
    }
    for (auto& t : threads) {
        t.join();
    }
}

}  // namespace cmsync
