#include "util/work_pool.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace cmsync {

namespace {
// How long a thread waits for work before it ends.
constexpr std::chrono::seconds kIdle{2};
thread_local bool t_pool_thread = false;
}  // namespace

WorkPool& WorkPool::shared() {
    static auto* pool = new WorkPool();  // NOLINT: leaked on purpose, see the header
    return *pool;
}

void WorkPool::allow(int threads) {
    std::lock_guard guard(mutex_);
    limit_ = std::max(limit_, threads);
}

bool WorkPool::on_pool_thread() {
    return t_pool_thread;
}

void WorkPool::submit(std::function<void()> task) {
    bool start = false;
    {
        std::lock_guard guard(mutex_);
        tasks_.push_back(std::move(task));
        if (idle_ > 0) {
            ready_.notify_one();
        }
        // More tasks waiting than idle threads to take them: one more thread, within the bound.
        if (static_cast<int>(tasks_.size()) > idle_ && threads_ < limit_) {
            ++threads_;
            start = true;
        }
    }
    if (start) {
        std::thread([this] { work(); }).detach();
    }
}

void WorkPool::work() {
    t_pool_thread = true;
    std::unique_lock lock(mutex_);
    for (;;) {
        if (tasks_.empty()) {
            ++idle_;
            const bool woken = ready_.wait_for(lock, kIdle, [this] { return !tasks_.empty(); });
            --idle_;
            if (!woken) {
                --threads_;
                return;
            }
        }
        auto task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        task = nullptr;  // what it holds goes before the next wait
        lock.lock();
    }
}

}  // namespace cmsync
