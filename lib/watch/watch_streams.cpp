#include "watch/watch_streams.hpp"

#include <fmt/format.h>

#include <random>
#include <utility>

#include "http/transport.hpp"
#include "util/backoff.hpp"

namespace cmsync {

namespace {

double random_unit() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// Events a resumed watch sends within this time of its first one count as its replay.
constexpr std::chrono::milliseconds kReplayWindow{500};

void sleep_unless(const std::atomic<bool>& stop, std::chrono::milliseconds delay) {
    const auto until = std::chrono::steady_clock::now() + delay;
    while (!stop && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

void EventQueue::push(StreamEvent event) {
    event.received = std::chrono::steady_clock::now();
    {
        std::lock_guard guard(mutex_);
        items_.push_back(std::move(event));
    }
    ready_.notify_one();
}

std::deque<StreamEvent> EventQueue::pop_all(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [&] { return !items_.empty(); });
    std::deque<StreamEvent> out;
    out.swap(items_);
    return out;
}

void EventQueue::compact(const std::function<bool(const kube::Object&)>& known) {
    std::lock_guard guard(mutex_);
    for (auto& item : items_) {
        forget_values_if_known(item, known);
    }
}

void forget_values_if_known(StreamEvent& event,
                            const std::function<bool(const kube::Object&)>& known) {
    // A delete is never "held": its state is the object's absence, not the object.
    if (event.known || !event.event.object || event.event.type == kube::WatchEventType::deleted ||
        !known || !known(*event.event.object)) {
        return;
    }
    event.known = true;
    auto& cm = *event.event.object;
    kube::Object slim;
    slim.namespace_name = std::move(cm.namespace_name);
    slim.name = std::move(cm.name);
    slim.resource_version = std::move(cm.resource_version);
    cm = std::move(slim);  // frees the values, labels, annotations and raw JSON
}

StreamRunner::StreamRunner(kube::ApiClient& api, EventQueue& queue, int chunk_size,
                           std::function<void(const std::string&)> log, WatchStats& stats)
    : api_(api), queue_(queue), chunk_size_(chunk_size), log_(std::move(log)), stats_(stats) {}

StreamRunner::~StreamRunner() {
    stop_all();
}

void StreamRunner::start(StreamSpec spec) {
    std::lock_guard guard(mutex_);
    auto stream = std::make_unique<Stream>();
    auto& ref = *stream;
    const auto key = spec.key;
    ref.thread =
        std::thread([this, spec = std::move(spec), &ref]() mutable { run(std::move(spec), ref); });
    streams_[key] = std::move(stream);
}

void StreamRunner::stop(const std::string& key) {
    std::unique_ptr<Stream> stream;
    {
        std::lock_guard guard(mutex_);
        const auto it = streams_.find(key);
        if (it == streams_.end()) {
            return;
        }
        stream = std::move(it->second);
        streams_.erase(it);
    }
    stream->stop = true;
    api_.wake_watches();
    stream->thread.join();
}

void StreamRunner::stop_all() {
    std::map<std::string, std::unique_ptr<Stream>> streams;
    {
        std::lock_guard guard(mutex_);
        streams.swap(streams_);
    }
    for (auto& [key, stream] : streams) {
        stream->stop = true;
    }
    // Else a watch without traffic ends at its next progress poll, up to a second later, and
    // the watcher, which saves state and gives up its Lease after its streams, waits for it.
    api_.wake_watches();
    for (auto& [key, stream] : streams) {
        stream->thread.join();
    }
}

bool StreamRunner::running(const std::string& key) const {
    std::lock_guard guard(mutex_);
    return streams_.count(key) != 0;
}

std::string StreamRunner::relist(const StreamSpec& spec, const Stream& self) {
    lists_.acquire();
    struct Release {
        std::counting_semaphore<16>& lists;
        ~Release() { lists.release(); }
    } release{lists_};
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
    if (!self.stop) {
        queue_.push(std::move(out));
    }
    return rv;
}

void StreamRunner::run(StreamSpec spec, Stream& self) {
    std::string rv = spec.resource_version;
    Backoff backoff;
    bool listed = false;  // the next watch starts where a list just ended: nothing to replay
    bool watched = false;
    const auto cancelled = [&self] { return self.stop.load(); };
    while (!self.stop) {
        try {
            if (rv.empty() && !spec.namespaces) {
                rv = relist(spec, self);
                listed = true;
                continue;
            }
            bool expired = false;
            // A watch resumed from an older position sends what it missed at once, right
            // after its first event; marked so the loop writes only the newest of them.
            const bool resumed = !listed;
            listed = false;
            if (std::exchange(watched, true)) {
                ++stats_.watch_restarts;
            }
            std::optional<std::chrono::steady_clock::time_point> first_event;
            const kube::WatchOptions options{rv, 300 + static_cast<int>(random_unit() * 300),
                                             spec.label_selector, spec.field_selector};
            const auto on_event = [&](kube::WatchEvent&& event) {
                if (event.type == kube::WatchEventType::error) {
                    if (event.error_code == 410) {
                        expired = true;
                        return false;
                    }
                    throw Error(fmt::format("watch {}: {} {}", spec.key, event.error_code,
                                            event.error_message));
                }
                if (!event.resource_version.empty()) {
                    rv = event.resource_version;
                }
                if (event.type != kube::WatchEventType::bookmark &&
                    (spec.namespaces || !spec.relevant ||
                     spec.relevant(event.namespace_name, event.name))) {
                    const auto now = std::chrono::steady_clock::now();
                    if (!first_event) {
                        first_event = now;
                    }
                    StreamEvent out;
                    out.stream = spec.key;
                    out.event = std::move(event);
                    out.resource_version = rv;
                    out.replayed = resumed && now - *first_event < kReplayWindow;
                    forget_values_if_known(out, spec.known);
                    queue_.push(std::move(out));
                } else {
                    StreamEvent position;  // the stream's position only
                    position.stream = spec.key;
                    position.resource_version = rv;
                    queue_.push(std::move(position));
                }
                return !self.stop;
            };
            if (spec.namespaces) {
                api_.watch_namespaces(options, on_event, cancelled);
            } else {
                api_.watch_objects(spec.kind, spec.namespace_name, options, on_event, cancelled);
            }
            if (expired) {
                log_(fmt::format("watch {}: resourceVersion {} is too old (410): relisting",
                                 spec.key, rv));
                rv.clear();
                ++stats_.relists;
            }
            backoff.reset();
        } catch (const ApiError& e) {
            if (e.code() == 410) {
                log_(fmt::format("watch {}: 410 Gone: relisting", spec.key));
                rv.clear();
                ++stats_.relists;
                continue;
            }
            const auto delay = backoff.next(random_unit());
            log_(fmt::format("watch {}: {}; again in {} ms", spec.key, e.what(), delay.count()));
            sleep_unless(self.stop, delay);
        } catch (const std::exception& e) {
            const auto delay = backoff.next(random_unit());
            log_(fmt::format("watch {}: {}; again in {} ms", spec.key, e.what(), delay.count()));
            sleep_unless(self.stop, delay);
        }
    }
}

}  // namespace cmsync
