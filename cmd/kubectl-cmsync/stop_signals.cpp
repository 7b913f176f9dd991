#include "stop_signals.hpp"

#include <csignal>
#include <cstdint>
#include <memory>

namespace cmsync::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
    g_stop = true;
}

}  // namespace

void install_stop_signals() {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
}

const std::atomic<bool>& stop_requested() {
    return g_stop;
}

http::CancelCheck cancel_after_stop(std::chrono::milliseconds grace) {
    // When the signal was first seen, in steady-clock milliseconds (0: not yet); the handler
    // itself only sets a flag.
    auto seen = std::make_shared<std::atomic<std::int64_t>>(0);
    return [grace, seen] {
        if (!g_stop) {
            return false;
        }
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
        std::int64_t unset = 0;
        seen->compare_exchange_strong(unset, now);
        return now - seen->load() >= grace.count();
    };
}

}  // namespace cmsync::cli
