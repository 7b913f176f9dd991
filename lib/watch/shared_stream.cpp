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
    subscribers_[id] = {std::move(subscriber), restarts_ + 1};
    last_join_ = std::chrono::steady_clock::now();
    if (!std::exchange(restart_wanted_, true)) {
        first_join_ = last_join_;
    }
    return id;  // the dispatcher restarts the stream once the joins pause
}

void SharedStream::unsubscribe(int id) {
    std::lock_guard guard(mutex_);
    subscribers_.erase(id);
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
    for (const auto& [id, entry] : subscribers_) {
        if (entry.subscriber.relevant(ns, name)) {
            return true;
        }
    }
    return false;
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
    for (auto& [id, entry] : subscribers_) {
        auto& s = entry.subscriber;
        if (entry.from_list > list) {
            continue;  // joined after this list started: the next one is its first
        }
        StreamEvent out;
        out.stream = s.key;
        out.kind = event.kind;
        out.resource_version = event.resource_version;
        out.replayed = event.replayed;
        if (relisted) {
            for (const auto& object : event.items) {
                if (s.relevant(object.namespace_name, object.name)) {
                    out.items.push_back(object);
                }
            }
        } else {
            if (!s.relevant(event.event.namespace_name, event.event.name)) {
                continue;
            }
            out.event = event.event;
            forget_values_if_known(out, s.known);
        }
        s.queue->push(std::move(out));
    }
}

}  // namespace cmsync
