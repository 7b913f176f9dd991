// StreamRunner: streams as steps on a few workers and watches open on the transport's loop.
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <utility>

#include "http/transport.hpp"
#include "util/backoff.hpp"
#include "watch/watch_streams.hpp"

namespace cmsync {

namespace {

double random_unit() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// A stream that failed to reach its server counts as unreachable until this long after its
// retry is due: a retry that fails again keeps it so, one that reaches the server (whose watch
// may then stay quiet) lets it lapse.
constexpr std::chrono::seconds kUnreachableGrace{5};

// Events a resumed watch sends within this time of its first one count as its replay.
constexpr std::chrono::milliseconds kReplayWindow{500};

// Steps (a list, the opening of a watch) of every runner of the process at once: a thousand
// rules starting together list on this many threads, and so on this many connections, not on
// sixteen each. A worker that waits for a later step holds none.
class StepSlots {
  public:
    bool try_take() {
        int free = free_.load();
        while (free > 0) {
            if (free_.compare_exchange_weak(free, free - 1)) {
                return true;
            }
        }
        return false;
    }
    void give_back() { ++free_; }

  private:
    std::atomic<int> free_{32};
};

StepSlots& step_slots() {
    static StepSlots slots;
    return slots;
}

}  // namespace

/// One stream's state. Only one party acts on it at a time (a worker in step(), or the
/// transport's thread while its watch is open); the hand-over goes through the runner's mutex.
struct StreamRunner::Stream {
    /// due: waiting in the runner's queue; busy: a worker steps it or its watch is open (what
    /// ends either schedules it again); ended: stopped for good.
    enum class Phase { due, busy, ended };
    explicit Stream(StreamSpec s) : spec(std::move(s)), rv(spec.resource_version) {}
    StreamSpec spec;
    std::atomic<bool> stop{false};
    Phase phase = Phase::due;  ///< guarded by the runner's mutex
    std::string rv;
    Backoff backoff;
    bool listed = false;  ///< the next watch starts where a list just ended: nothing to replay
    bool watched = false;
    // Of the watch open now.
    bool resumed = false;
    bool expired = false;
    std::optional<std::chrono::steady_clock::time_point> first_event;
    /// The server could not be reached: set by a transport failure, cleared by the next event
    /// or list; `failure` and `failing_until` are guarded by the runner's mutex.
    std::atomic<bool> failing{false};
    std::string failure;
    std::chrono::steady_clock::time_point failing_until{};
};

StreamRunner::StreamRunner(kube::ApiClient& api, EventQueue& queue, int chunk_size,
                           std::function<void(const std::string&)> log, WatchStats& stats)
    : api_(api), queue_(queue), chunk_size_(chunk_size), log_(std::move(log)), stats_(stats) {}

StreamRunner::~StreamRunner() {
    stop_all();
    std::unique_lock lock(mutex_);
    changed_.notify_all();  // a worker waiting for a later step finds none and leaves
    changed_.wait(lock, [this] { return workers_ == 0; });
}

void StreamRunner::start(StreamSpec spec) {
    auto s = std::make_shared<Stream>(std::move(spec));
    {
        std::lock_guard guard(mutex_);
        streams_[s->spec.key] = s;
    }
    schedule(s, std::chrono::milliseconds(0));
}

void StreamRunner::stop(const std::string& key) {
    StreamPtr s;
    {
        std::lock_guard guard(mutex_);
        const auto it = streams_.find(key);
        if (it == streams_.end()) {
            return;
        }
        s = it->second;
        streams_.erase(it);
    }
    wait_ended({s});
}

void StreamRunner::stop_all() {
    std::vector<StreamPtr> streams;
    {
        std::lock_guard guard(mutex_);
        for (auto& [key, s] : streams_) {
            streams.push_back(s);
        }
        streams_.clear();
    }
    wait_ended(streams);
}

void StreamRunner::wait_ended(const std::vector<StreamPtr>& streams) {
    {
        std::lock_guard guard(mutex_);
        for (const auto& s : streams) {
            s->stop = true;
            if (s->phase == Stream::Phase::due) {
                std::erase_if(due_, [&](const auto& step) { return step.second == s; });
                s->phase = Stream::Phase::ended;
            }
        }
    }
    // Else a watch without traffic ends at its next progress poll, up to a second later, and
    // the watcher, which saves state and gives up its Lease after its streams, waits for it.
    api_.wake_watches();
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] {
        return std::all_of(streams.begin(), streams.end(),
                           [](const auto& s) { return s->phase == Stream::Phase::ended; });
    });
}

bool StreamRunner::running(const std::string& key) const {
    std::lock_guard guard(mutex_);
    return streams_.count(key) != 0;
}

std::optional<std::string> StreamRunner::unreachable() const {
    std::lock_guard guard(mutex_);
    const auto now = Clock::now();
    for (const auto& [key, s] : streams_) {
        if (s->failing && now < s->failing_until) {
            return s->failure;
        }
    }
    return std::nullopt;
}

void StreamRunner::reached(Stream& s) {
    if (s.failing.exchange(false)) {
        std::lock_guard guard(mutex_);
        s.failure.clear();
    }
}

void StreamRunner::schedule(const StreamPtr& s, std::chrono::milliseconds delay) {
    std::lock_guard guard(mutex_);
    if (s->stop) {
        s->phase = Stream::Phase::ended;
        changed_.notify_all();
        return;
    }
    s->phase = Stream::Phase::due;
    due_.emplace(Clock::now() + delay, s);
    add_worker_if_needed();
    changed_.notify_all();
}

void StreamRunner::kick() {
    std::lock_guard guard(mutex_);
    if (!due_.empty() && due_.begin()->first <= Clock::now()) {
        add_worker_if_needed();
    }
}

void StreamRunner::add_worker_if_needed() {
    const int waiting = timed_wait_ ? 1 : 0;
    if (workers_ < kMaxWorkers && workers_ - waiting < static_cast<int>(due_.size()) &&
        step_slots().try_take()) {
        ++workers_;
        std::thread([this] { work(); }).detach();  // the destructor waits for workers_ == 0
    }
}

void StreamRunner::work() {
    std::unique_lock lock(mutex_);
    bool slot = true;  // taken by add_worker_if_needed
    while (!due_.empty()) {
        const auto when = due_.begin()->first;
        if (when > Clock::now()) {
            if (timed_wait_) {
                break;  // one worker waits for what is due later; the others leave
            }
            timed_wait_ = true;
            if (std::exchange(slot, false)) {
                step_slots().give_back();
            }
            changed_.wait_until(lock, when);
            timed_wait_ = false;
            continue;
        }
        if (!slot && !(slot = step_slots().try_take())) {
            break;  // every slot is busy: the watcher's next kick() adds a worker
        }
        auto s = due_.begin()->second;
        due_.erase(due_.begin());
        s->phase = Stream::Phase::busy;
        lock.unlock();
        step(s);
        lock.lock();
    }
    if (slot) {
        step_slots().give_back();
    }
    --workers_;
    changed_.notify_all();
}

std::string StreamRunner::relist(const Stream& s) {
    const auto& spec = s.spec;
    StreamEvent out;
    out.stream = spec.key;
    out.kind = StreamEvent::Kind::relisted;
    out.resource_version =
        api_.list(spec.kind, spec.namespace_name,
                  kube::ListOptions{spec.label_selector, spec.field_selector, chunk_size_},
                  [&](std::vector<kube::Object>&& items, bool restart) {
                      if (restart) {
                          out.items.clear();
                      }
                      for (auto& cm : items) {
                          if (!spec.relevant || spec.relevant(cm.namespace_name, cm.name)) {
                              out.items.push_back(std::move(cm));
                          }
                      }
                  });
    auto rv = out.resource_version;
    if (!s.stop) {
        queue_.push(std::move(out));
    }
    return rv;
}

void StreamRunner::step(const StreamPtr& s) {
    if (s->stop) {
        schedule(s, std::chrono::milliseconds(0));  // ends it
        return;
    }
    try {
        if (s->rv.empty() && !s->spec.namespaces) {
            s->rv = relist(*s);
            reached(*s);
            s->listed = true;
            if (s->stop) {
                schedule(s, std::chrono::milliseconds(0));  // ends it
                return;
            }
        }
        open_watch(s);
    } catch (...) {
        failed(s, std::current_exception());
    }
}

void StreamRunner::open_watch(const StreamPtr& s) {
    const auto& spec = s->spec;
    s->expired = false;
    // A watch resumed from an older position sends what it missed at once, right after its
    // first event; marked so the loop writes only the newest of them.
    s->resumed = !s->listed;
    s->listed = false;
    s->first_event.reset();
    if (std::exchange(s->watched, true)) {
        ++stats_.watch_restarts;
    }
    const kube::WatchOptions options{s->rv, 300 + static_cast<int>(random_unit() * 300),
                                     spec.label_selector, spec.field_selector};
    auto on_event = [this, s](kube::WatchEvent&& event) {
        const auto& spec = s->spec;
        if (event.type == kube::WatchEventType::error) {
            if (event.error_code == 410) {
                s->expired = true;
                return false;
            }
            throw Error(
                fmt::format("watch {}: {} {}", spec.key, event.error_code, event.error_message));
        }
        reached(*s);
        if (!event.resource_version.empty()) {
            s->rv = event.resource_version;
        }
        if (event.type != kube::WatchEventType::bookmark &&
            (spec.namespaces || !spec.relevant ||
             spec.relevant(event.namespace_name, event.name))) {
            const auto now = std::chrono::steady_clock::now();
            if (!s->first_event) {
                s->first_event = now;
            }
            StreamEvent out;
            out.stream = spec.key;
            out.event = std::move(event);
            out.resource_version = s->rv;
            out.replayed = s->resumed && now - *s->first_event < kReplayWindow;
            forget_values_if_known(out, spec.known);
            queue_.push(std::move(out));
        } else {
            StreamEvent position;  // the stream's position only
            position.stream = spec.key;
            position.resource_version = s->rv;
            queue_.push(std::move(position));
        }
        return !s->stop;
    };
    auto cancelled = [s] { return s->stop.load(); };
    auto ended = [this, s](std::exception_ptr error) { watch_ended(s, error); };
    if (spec.namespaces) {
        api_.open_watch_namespaces(options, std::move(on_event), std::move(cancelled),
                                   std::move(ended));
    } else {
        api_.open_watch_objects(spec.kind, spec.namespace_name, options, std::move(on_event),
                                std::move(cancelled), std::move(ended));
    }
}

void StreamRunner::watch_ended(const StreamPtr& s, std::exception_ptr error) {
    if (!error) {
        if (s->expired) {
            log_(fmt::format("watch {}: resourceVersion {} is too old (410): relisting",
                             s->spec.key, s->rv));
            s->rv.clear();
            ++stats_.relists;
        }
        s->backoff.reset();
        schedule(s, std::chrono::milliseconds(0));
        return;
    }
    failed(s, error);
}

void StreamRunner::failed(const StreamPtr& s, std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const ApiError& e) {
        if (e.code() == 410) {
            log_(fmt::format("watch {}: 410 Gone: relisting", s->spec.key));
            s->rv.clear();
            ++stats_.relists;
            schedule(s, std::chrono::milliseconds(0));
            return;
        }
        retry_later(s, e.what());
    } catch (const http::TransportError& e) {
        retry_later(s, e.what(), true);
    } catch (const std::exception& e) {
        retry_later(s, e.what());
    }
}

void StreamRunner::retry_later(const StreamPtr& s, const std::string& what, bool unreachable) {
    const auto delay = s->backoff.next(random_unit());
    if (unreachable) {
        std::lock_guard guard(mutex_);
        s->failure = what;
        s->failing_until = Clock::now() + delay + kUnreachableGrace;
        s->failing = true;
    }
    if (!s->stop) {
        log_(fmt::format("watch {}: {}; again in {} ms", s->spec.key, what, delay.count()));
    }
    schedule(s, delay);
}

}  // namespace cmsync
