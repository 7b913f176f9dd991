#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/event.hpp"

namespace cmsync::controller {

/// How Events are bounded; the defaults follow client-go's tools/events and tools/record.
struct CorrelatorLimits {
    /// An isomorphic occurrence this soon after the last one joins its series (finishTime).
    std::chrono::seconds series_window{360};
    /// At most one write per Event in this time; later counts wait for flush().
    std::chrono::seconds min_write_interval{10};
    /// New Events per object: a token bucket of `burst`, one token back per `refill`
    /// (EventSourceObjectSpamFilter: 25, one per 5 minutes).
    int burst = 25;
    std::chrono::seconds refill{300};
    /// Series and token buckets remembered at most (least recently used go first).
    std::size_t max_entries = 4096;
};

/// What to do about one occurrence.
struct EventDecision {
    enum class Kind {
        create,  ///< POST `event` (a new Event)
        patch,   ///< PATCH `event`'s series count (create it when gone)
        later,   ///< counted into a series; flush() writes it once the interval has passed
        drop,    ///< the object's new-Event budget is spent
    };
    Kind kind;
    EventObject event;  ///< for create and patch
};

/// Decides, as client-go's event broadcaster and spam filter do, whether an occurrence becomes
/// a new Event, a series count on an existing one, or nothing. Pure: the caller passes the time
/// and the random name suffixes; not thread-safe.
class EventCorrelator {
  public:
    EventCorrelator(CorrelatorLimits limits, std::string reporting_instance,
                    std::function<std::string()> name_suffix);

    /// Takes one occurrence at `now`.
    EventDecision observe(const EventOccurrence& occurrence, EventTime now);
    /// Series patches due at `now` (all pending ones when `all`), for counts that waited out
    /// the write interval; forgets series past their window.
    std::vector<EventObject> flush(EventTime now, bool all = false);
    /// Series remembered now.
    std::size_t size() const { return series_.size(); }

  private:
    struct Series {
        std::string key;
        EventObject event;
        int written = 1;  ///< the count last sent
        EventTime last_write;
    };
    struct Bucket {
        std::string key;
        double tokens;
        EventTime last;
    };
    /// Takes one token of `object`'s bucket; false when there is none.
    bool take_token(const ObjectRef& object, EventTime now);

    CorrelatorLimits limits_;
    std::string reporting_instance_;
    std::function<std::string()> name_suffix_;
    std::list<Series> series_;  ///< most recently used first
    std::unordered_map<std::string, std::list<Series>::iterator> series_index_;
    std::list<Bucket> buckets_;  ///< most recently used first
    std::unordered_map<std::string, std::list<Bucket>::iterator> bucket_index_;
};

}  // namespace cmsync::controller
