#include "watch/pass_schedule.hpp"

#include <algorithm>

namespace cmsync {

PassSchedule::Clock::time_point PassSchedule::due(const Source& s) const {
    if (!s.burst) {
        return s.first_pending;
    }
    return std::min(*s.last_change + timing_.quiet, s.first_pending + timing_.max_delay);
}

void PassSchedule::changed(const std::string& name, Clock::time_point at, bool replayed) {
    auto& s = sources_[name];
    const bool during_pass = s.pass_start && at >= *s.pass_start && at <= s.pass_end;
    const bool close = s.last_change && at - *s.last_change < timing_.burst_gap;
    s.last_change = at;
    if (!s.pending) {
        s.pending = true;
        s.burst = false;
        s.first_pending = at;
    }
    s.burst = s.burst || replayed || during_pass || close;
}

void PassSchedule::passed(const std::string& name, Clock::time_point start, Clock::time_point end) {
    const auto it = sources_.find(name);
    if (it != sources_.end()) {
        it->second.pass_start = start;
        it->second.pass_end = end;
    }
}

bool PassSchedule::pending(const std::string& name) const {
    const auto it = sources_.find(name);
    return it != sources_.end() && it->second.pending;
}

void PassSchedule::forget(const std::string& name) {
    sources_.erase(name);
}

void PassSchedule::clear_pending() {
    for (auto& [name, s] : sources_) {
        s.pending = false;
    }
}

std::vector<std::string> PassSchedule::take_due(Clock::time_point now) {
    std::vector<std::string> names;
    for (auto& [name, s] : sources_) {
        if (s.pending && due(s) <= now) {
            s.pending = false;
            names.push_back(name);
        }
    }
    return names;
}

std::optional<PassSchedule::Clock::time_point> PassSchedule::next_due() const {
    std::optional<Clock::time_point> next;
    for (const auto& [name, s] : sources_) {
        if (s.pending && (!next || due(s) < *next)) {
            next = due(s);
        }
    }
    return next;
}

}  // namespace cmsync
