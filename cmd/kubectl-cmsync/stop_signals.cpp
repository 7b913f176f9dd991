#include "stop_signals.hpp"

#include <semaphore.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <mutex>

namespace cmsync::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
/// When the first stop signal arrived, in CLOCK_MONOTONIC nanoseconds (steady_clock's on
/// Linux); 0: none yet. Set before g_stop.
std::atomic<std::int64_t> g_stop_at{0};
static_assert(std::atomic<std::int64_t>::is_always_lock_free, "set in a signal handler");
/// Posted by the first stop signal: sem_post is async-signal-safe, a condition variable is not.
sem_t g_signalled;
std::once_flag g_installed;

extern "C" void on_stop_signal(int) {
    const int saved_errno = errno;  // of the interrupted code
    // clock_gettime is async-signal-safe in POSIX; steady_clock::now() is promised nothing.
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    std::int64_t unset = 0;
    const bool first = g_stop_at.compare_exchange_strong(
        unset, static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec);
    g_stop = true;
    if (first) {
        sem_post(&g_signalled);
    }
    errno = saved_errno;
}

Clock::time_point stop_at() {
    return Clock::time_point(std::chrono::nanoseconds(g_stop_at.load()));
}

}  // namespace

void install_stop_signals() {
    std::call_once(g_installed, [] {
        sem_init(&g_signalled, 0, 0);
        std::signal(SIGINT, on_stop_signal);
        std::signal(SIGTERM, on_stop_signal);
    });
}

const std::atomic<bool>& stop_requested() {
    return g_stop;
}

http::CancelCheck cancel_after_stop(std::chrono::milliseconds grace) {
    return [grace] { return g_stop && Clock::now() - stop_at() >= grace; };
}

WakeAfterStop::WakeAfterStop(std::chrono::milliseconds grace, std::function<void()> wake) {
    thread_ = std::thread([this, grace, wake = std::move(wake)] {
        while (sem_wait(&g_signalled) != 0 && errno == EINTR) {
        }
        std::unique_lock lock(mutex_);
        if (quit_ || quit_changed_.wait_until(lock, stop_at() + grace, [&] { return quit_; })) {
            return;
        }
        lock.unlock();
        wake();
    });
}

WakeAfterStop::~WakeAfterStop() {
    {
        std::lock_guard guard(mutex_);
        quit_ = true;
    }
    quit_changed_.notify_all();
    sem_post(&g_signalled);  // when no signal came
    thread_.join();
}

}  // namespace cmsync::cli
