#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

#include "util/work_pool.hpp"

namespace cmsync {

/// Calls fn(0) .. fn(n-1) on up to `concurrency` threads: the calling thread and threads of
/// the process's WorkPool, so that many loops at once share a bounded number of threads; fn
/// must not throw. When given, `while_waiting` runs on the calling thread about every 100 ms
/// until they are done (the caller then only waits). A loop inside a loop (each target
/// cluster's writes, run for several clusters at once) keeps its own concurrency: its caller
/// takes indices too, so it never waits for pool threads busy with the outer loop.
inline void parallel_for(std::size_t n, int concurrency, const std::function<void(std::size_t)>& fn,
                         const std::function<void()>& while_waiting = {}) {
    const auto lanes = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, concurrency)));
    if (lanes <= 1 && !while_waiting) {
        for (std::size_t i = 0; i < n; ++i) {
            fn(i);
        }
        return;
    }
    // Shared with the lanes: one may start after the last index is done (the pool was busy),
    // and then only finds nothing left to take.
    struct State {
        std::mutex mutex;
        std::condition_variable done_cv;
        std::size_t next = 0;
        std::size_t done = 0;
    };
    auto state = std::make_shared<State>();
    const auto* f = &fn;  // called only for an index taken before the last is done
    const auto lane = [state, f, n] {
        for (;;) {
            std::size_t i = 0;
            {
                std::lock_guard guard(state->mutex);
                if (state->next >= n) {
                    return;
                }
                i = state->next++;
            }
            (*f)(i);
            std::lock_guard guard(state->mutex);
            if (++state->done == n) {
                state->done_cv.notify_all();
            }
        }
    };
    // A pool thread's loop takes indices itself (waiting only on lanes that took one: no
    // wait on the pool it is part of), as does any caller without a hook to run.
    const bool caller_takes = !while_waiting || WorkPool::on_pool_thread();
    auto& pool = WorkPool::shared();
    pool.allow(concurrency);
    for (std::size_t l = caller_takes ? 1 : 0; l < lanes; ++l) {
        pool.submit(lane);
    }
    if (caller_takes) {
        lane();
    }
    std::unique_lock lock(state->mutex);
    while (!state->done_cv.wait_for(lock, std::chrono::milliseconds(100),
                                    [&] { return state->done == n; })) {
        if (while_waiting && !caller_takes) {
            lock.unlock();
            while_waiting();
            lock.lock();
        }
    }
}

/// Calls fn(0) .. fn(n-1) all at once, each of which runs a loop of its own at `inner`
/// concurrency (each target cluster's writes): the process's pool grows to hold every loop's
/// lanes, so that each gets its concurrency as one alone would (at the pool's first 32, three
/// clusters at 16 took turns for threads and the last one ran nearly alone at the end).
inline void parallel_loops(std::size_t n, int inner, const std::function<void(std::size_t)>& fn) {
    WorkPool::shared().allow(static_cast<int>(n) * (std::max(1, inner) + 1));
    parallel_for(n, static_cast<int>(n), fn);
}

}  // namespace cmsync
