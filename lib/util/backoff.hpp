#pragma once

#include <algorithm>
#include <chrono>

namespace cmsync {

/// Exponential backoff for re-opening a watch: 0.8 s doubling to 30 s, each delay stretched by
/// up to its own length at random (jitter), as client-go's reflector does.
class Backoff {
  public:
    /// The next delay; `jitter` is a number in [0, 1).
    std::chrono::milliseconds next(double jitter) {
        const auto base = current_;
        current_ = std::min(current_ * 2, kMax);
        return std::min(std::chrono::milliseconds(
                            static_cast<long>(static_cast<double>(base.count()) * (1.0 + jitter))),
                        kMax);
    }
    /// Back to the first delay, after a stream worked.
    void reset() { current_ = kFirst; }

    static constexpr std::chrono::milliseconds kFirst{800};
    static constexpr std::chrono::milliseconds kMax{30000};

  private:
    std::chrono::milliseconds current_ = kFirst;
};

}  // namespace cmsync
