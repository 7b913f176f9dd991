#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace cmsync {

/// Calls fn(0) .. fn(n-1) on up to `concurrency` threads; fn must not throw.
inline void parallel_for(std::size_t n, int concurrency,
                         const std::function<void(std::size_t)>& fn) {
    const auto workers =
        std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, concurrency)));
    if (workers <= 1) {
        for (std::size_t i = 0; i < n; ++i) {
            fn(i);
        }
        return;
    }
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) {
        threads.emplace_back([&] {
            for (std::size_t i = next++; i < n; i = next++) {
                fn(i);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
}

}  // namespace cmsync
