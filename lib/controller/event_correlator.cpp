#include "controller/event_correlator.hpp"

#include <algorithm>
#include <utility>

namespace cmsync::controller {

namespace {

std::string object_key(const ObjectRef& o) {
    return o.namespace_name + '\0' + o.name + '\0' + o.uid;
}

// Isomorphic occurrences: same object, type, reason, action and note (client-go leaves the
// note out, and so keeps the first note of a series; cmsync's notes name what differs).
std::string series_key(const EventOccurrence& e) {
    return object_key(e.regarding) + '\0' + (e.type == EventType::warning ? "W" : "N") + '\0' +
           e.reason + '\0' + e.action + '\0' + e.note;
}

}  // namespace

EventCorrelator::EventCorrelator(CorrelatorLimits limits, std::string reporting_instance,
                                 std::function<std::string()> name_suffix)
    : limits_(limits),
      reporting_instance_(std::move(reporting_instance)),
      name_suffix_(std::move(name_suffix)) {}

bool EventCorrelator::take_token(const ObjectRef& object, EventTime now) {
    const auto key = object_key(object);
    auto found = bucket_index_.find(key);
    if (found == bucket_index_.end()) {
        buckets_.push_front(Bucket{key, static_cast<double>(limits_.burst), now});
        bucket_index_[key] = buckets_.begin();
        if (buckets_.size() > limits_.max_entries) {
            bucket_index_.erase(buckets_.back().key);
            buckets_.pop_back();
        }
    } else {
        buckets_.splice(buckets_.begin(), buckets_, found->second);
    }
    auto& bucket = buckets_.front();
    if (now > bucket.last) {
        const auto elapsed = std::chrono::duration<double>(now - bucket.last).count();
        bucket.tokens =
            std::min(static_cast<double>(limits_.burst),
                     bucket.tokens + elapsed / static_cast<double>(limits_.refill.count()));
        bucket.last = now;
    }
    if (bucket.tokens < 1.0) {
        return false;
    }
    bucket.tokens -= 1.0;
    return true;
}

EventDecision EventCorrelator::observe(const EventOccurrence& occurrence, EventTime now) {
    const auto key = series_key(occurrence);
    if (const auto found = series_index_.find(key); found != series_index_.end()) {
        auto& s = *found->second;
        if (now - s.event.last_observed <= limits_.series_window) {
            series_.splice(series_.begin(), series_, found->second);
            ++s.event.count;
            s.event.last_observed = now;
            if (now - s.last_write < limits_.min_write_interval) {
                return {EventDecision::Kind::later, {}};
            }
            s.written = s.event.count;
            s.last_write = now;
            return {EventDecision::Kind::patch, s.event};
        }
        series_.erase(found->second);  // the series has ended: a new Event starts
        series_index_.erase(found);
    }
    if (!take_token(occurrence.regarding, now)) {
        return {EventDecision::Kind::drop, {}};
    }
    EventObject event{event_name(occurrence.regarding.name, name_suffix_()),
                      occurrence,
                      reporting_instance_,
                      now,
                      1,
                      now};
    series_.push_front(Series{key, event, 1, now});
    series_index_[key] = series_.begin();
    if (series_.size() > limits_.max_entries) {
        series_index_.erase(series_.back().key);
        series_.pop_back();
    }
    return {EventDecision::Kind::create, std::move(event)};
}

std::vector<EventObject> EventCorrelator::flush(EventTime now, bool all) {
    std::vector<EventObject> due;
    for (auto it = series_.begin(); it != series_.end();) {
        auto& s = *it;
        if (s.event.count > s.written &&
            (all || now - s.last_write >= limits_.min_write_interval)) {
            s.written = s.event.count;
            s.last_write = now;
            due.push_back(s.event);
        }
        if (s.event.count == s.written && now - s.event.last_observed > limits_.series_window) {
            series_index_.erase(s.key);
            it = series_.erase(it);
        } else {
            ++it;
        }
    }
    return due;
}

}  // namespace cmsync::controller
