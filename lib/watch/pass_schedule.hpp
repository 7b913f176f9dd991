#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cmsync {

/// When `watch` runs the pass (one write per copy) of each changed source: at once for a lone
/// change, so a single update propagates without delay; after the source has been quiet for a
/// moment when changes come in a burst (a change during the previous pass, or soon after the
/// one before), so a burst costs each copy a write at its start and one with the latest
/// version, never one per update. Changes a resumed watch replays (several versions sent at
/// once after an outage) always wait for the quiet, so only the newest is written.
/// Pure: the caller says what time it is.
class PassSchedule {
  public:
    using Clock = std::chrono::steady_clock;
    struct Timing {
        /// Changes closer than this are a burst.
        std::chrono::milliseconds burst_gap{100};
        /// A burst's pass waits until no change came for this long...
        std::chrono::milliseconds quiet{100};
        /// ...but never longer than this after its first pending change.
        std::chrono::milliseconds max_delay{1000};
    };

    PassSchedule() = default;
    explicit PassSchedule(Timing timing) : timing_(timing) {}

    /// Source `name` has a new version that arrived at `at`; `replayed`: a resumed watch sent
    /// it among others it had missed.
    void changed(const std::string& name, Clock::time_point at, bool replayed);
    /// The pass of `name` ran from `start` to `end`: changes that arrived meanwhile are a burst.
    void passed(const std::string& name, Clock::time_point start, Clock::time_point end);
    /// Whether `name` waits for a pass.
    bool pending(const std::string& name) const;
    /// `name` is gone: nothing to pass, nothing to remember.
    void forget(const std::string& name);
    /// Every pending pass was done by other means (a full resync).
    void clear_pending();
    /// The names whose pass is due at `now`, in name order; they are no longer pending.
    std::vector<std::string> take_due(Clock::time_point now);
    /// When the next pass is due; nothing when none is pending.
    std::optional<Clock::time_point> next_due() const;

  private:
    struct Source {
        std::optional<Clock::time_point> last_change;
        std::optional<Clock::time_point> pass_start;
        Clock::time_point pass_end;
        bool pending = false;
        bool burst = false;
        Clock::time_point first_pending;  ///< while pending; last_change is the latest
    };
    Clock::time_point due(const Source& s) const;

    Timing timing_;
    std::map<std::string, Source> sources_;
};

}  // namespace cmsync
