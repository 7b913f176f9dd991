#include "watch/shared_stream.hpp"

#include <fmt/format.h>

#include <chrono>

namespace cmsync {

namespace {

// A restart waits until no watcher has joined for this long, or this long since the first.
constexpr std::chrono::milliseconds kJoinPause{300};
constexpr std::chrono::seconds kJoinWait{3};
// How often the dispatcher looks whether a restart is due, without events.
constexpr std::chrono::milliseconds kLook{100};

// The stream's key: "shared#N" for the list of restart N.
std::string stream_key(long restart) {
    return fmt::format("shared#{}", restart);
}

long restart_of(const std::string& key) {
    return std::stol(key.substr(key.find('#') + 1));
}

}  // namespace

SharedStream::SharedStream(kube::ApiClient& api, kube::Kind kind, int chunk_size,
                           std::function<void(const std::string&)> log)
    : api_(api),
      kind_(kind),
      log_(std::move(log)),
      runner_(api, queue_, chunk_size, log_, stats_),
      dispatcher_([this] { dispatch(); }) {}

SharedStream::~SharedStream() {
    runner_.stop_all();
    {
        std::lock_guard guard(mutex_);
        stop_ = true;
    }
    queue_.push({});  // wakes the dispatcher
    dispatcher_.join();
}

bool SharedStream::allowed() {
    std::lock_guard guard(mutex_);
    if (!allowed_) {
        try {
            const std::string resource(kind_.resource);
            allowed_ = api_.access_allowed("list", resource, "") &&
                       api_.access_allowed("watch", resource, "");
        } catch (const std::exception& e) {
            log_(fmt::format("cannot tell whether {} may be watched cluster-wide: {}",
                             kind_.resource, e.what()));
            return false;  // asked again by the next rule
        }
    }
    return *allowed_;
}

int SharedStream::subscribe(Subscriber subscriber) {
    std::unique_lock lock(mutex_);
    const int id = next_id_++;
    // Its first list is the next one that starts: under way now, that one may have passed
    // over its objects already.
    if (subscriber.namespaces) {
        for (const auto& ns : *subscriber.namespaces) {
            by_namespace_[ns].insert(id);
        }
    } else {
        anywhere_.insert(id);
    }
    subscribers_[id] = {std::move(subscriber), restarts_ + 1};
    last_join_ = std::chrono::steady_clock::now();
    if (!std::exchange(restart_wanted_, true)) {
        first_join_ = last_join_;
    }
    return id;  // the dispatcher restarts the stream once the joins pause
}

void SharedStream::unsubscribe(int id) {
    std::lock_guard guard(mutex_);
    const auto it = subscribers_.find(id);
    if (it == subscribers_.end()) {
        return;
    }
    if (const auto& namespaces = it->second.subscriber.namespaces) {
        for (const auto& ns : *namespaces) {
            if (auto at = by_namespace_.find(ns); at != by_namespace_.end()) {
                at->second.erase(id);
                if (at->second.empty()) {
                    by_namespace_.erase(at);
                }
            }
        }
    }
    anywhere_.erase(id);
    subscribers_.erase(it);
}

template <typename F>
void SharedStream::each_candidate(const std::string& ns, F&& f) {
    const auto visit = [&](int id) {
        if (const auto it = subscribers_.find(id); it != subscribers_.end()) {
            f(id, it->second);
        }
    };
    if (const auto it = by_namespace_.find(ns); it != by_namespace_.end()) {
        for (const int id : it->second) {
            visit(id);
        }
    }
    for (const int id : anywhere_) {
        visit(id);
    }
}

void SharedStream::restart_if_wanted(std::unique_lock<std::mutex>& lock) {
    if (!restart_wanted_ || listing_ || stop_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_join_ < kJoinPause && now - first_join_ < kJoinWait) {
        return;
    }
    restart_wanted_ = false;
    listing_ = true;
    const auto previous = stream_key(restarts_);
    const auto key = stream_key(++restarts_);
    lock.unlock();
    // The watch that was followed ends; what it sent is queued before the new list.
    runner_.stop(previous);
    StreamSpec spec;
    spec.key = key;
    spec.kind = kind_;
    spec.relevant = [this](const std::string& ns, const std::string& name) {
        return any_relevant(ns, name);
    };
    runner_.start(std::move(spec));
    lock.lock();
}

bool SharedStream::any_relevant(const std::string& ns, const std::string& name) {
    std::lock_guard guard(mutex_);
    bool found = false;
    each_candidate(
        ns, [&](int, const Entry& entry) { found = found || entry.subscriber.relevant(ns, name); });
    return found;
}

void SharedStream::dispatch() {
    for (;;) {
        auto events = queue_.pop_all(kLook);
        for (; !events.empty(); events.pop_front()) {
            deliver(events.front());
        }
        std::unique_lock lock(mutex_);
        if (stop_) {
            return;
        }
        restart_if_wanted(lock);
    }
}

void SharedStream::deliver(StreamEvent& event) {
    if (event.stream.empty()) {
        return;  // the destructor's wake-up
    }
    const long list = restart_of(event.stream);
    std::lock_guard guard(mutex_);
    if (list != restarts_) {
        return;  // of a stream stopped since
    }
    const bool relisted = event.kind == StreamEvent::Kind::relisted;
    if (relisted) {
        listing_ = false;
    }
    const auto joined = [&](const Entry& entry) {
        return entry.from_list <= list;  // else it joined after this list started
    };
    const auto start = [&](const Subscriber& s) {
        StreamEvent out;
        out.stream = s.key;
        out.kind = event.kind;
        out.resource_version = event.resource_version;
        out.replayed = event.replayed;
        return out;
    };
    if (!relisted) {
        each_candidate(event.event.namespace_name, [&](int, Entry& entry) {
            auto& s = entry.subscriber;
            if (!joined(entry) || !s.relevant(event.event.namespace_name, event.event.name)) {
                return;
            }
            auto out = start(s);
            out.event = event.event;
            forget_values_if_known(out, s.known);
            s.queue->push(std::move(out));
        });
        return;
    }
    // A list reaches every watcher, each with the objects relevant to it (found through the
    // index by namespace: a thousand watchers do not each look at every object).
    std::map<int, StreamEvent> outs;
    for (const auto& [id, entry] : subscribers_) {
        if (joined(entry)) {
            outs.emplace(id, start(entry.subscriber));
        }
    }
    for (const auto& object : event.items) {
        each_candidate(object.namespace_name, [&](int id, Entry& entry) {
            if (joined(entry) && entry.subscriber.relevant(object.namespace_name, object.name)) {
                outs[id].items.push_back(object);
            }
        });
    }
    for (auto& [id, out] : outs) {
        subscribers_[id].subscriber.queue->push(std::move(out));
    }
}

}  // namespace cmsync
