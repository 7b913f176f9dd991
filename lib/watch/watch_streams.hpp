#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/api_client.hpp"

namespace cmsync {

/// What a stream thread hands to the watch loop.
struct StreamEvent {
    enum class Kind { event, relisted };
    std::string stream;  ///< the stream's key
    Kind kind = Kind::event;
    kube::WatchEvent event;           ///< kind == event
    std::vector<kube::Object> items;  ///< kind == relisted: the relevant objects listed
    std::string resource_version;     ///< the stream's position after this
    /// When the stream thread queued it (EventQueue::push sets it).
    std::chrono::steady_clock::time_point received;
    /// One of the changes a re-opened watch sent at once, missed while it was away (etcd
    /// replays every version since the resourceVersion): an older version may come first.
    bool replayed = false;
    /// The loop holds this very state already (StreamSpec::known): the object comes without
    /// its data and raw JSON, so a burst of echoes of the loop's own writes costs little.
    bool known = false;
};

/// Makes `event` a known one (its object keeps namespace, name and resourceVersion only) when
/// it is an added or modified ConfigMap that `known` says the loop holds.
void forget_values_if_known(StreamEvent& event,
                            const std::function<bool(const kube::Object&)>& known);

/// A blocking queue between stream threads and the watch loop.
class EventQueue {
  public:
    void push(StreamEvent event);
    /// Everything queued, waiting up to `timeout` for the first item. The queue's own nodes
    /// are handed over, not copied: a burst of thousands of events is never held twice.
    std::deque<StreamEvent> pop_all(std::chrono::milliseconds timeout);
    /// Lets go of the values of queued ConfigMap events that `known` now says the loop holds
    /// (StreamEvent::known), so a burst queued while the loop writes stays small; only events
    /// of the streams `of_stream` accepts (all without it).
    void compact(const std::function<bool(const kube::Object&)>& known,
                 const std::function<bool(const std::string& stream)>& of_stream = nullptr);
    /// `f` is called after each push (a driver waiting on many queues); set before any push.
    void on_push(std::function<void()> f) { on_push_ = std::move(f); }
    /// `f` sees each event as it is pushed, on the pushing thread, before it is queued; set
    /// before any push.
    void observe(std::function<void(const StreamEvent&)> f) { observe_ = std::move(f); }

  private:
    std::function<void()> on_push_;
    std::function<void(const StreamEvent&)> observe_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<StreamEvent> items_;
};

/// What the streams and the loop of a watch have done, for metrics; read from any thread.
struct WatchStats {
    std::atomic<std::uint64_t> watch_restarts{0};  ///< watches opened again after the first
    std::atomic<std::uint64_t> relists{0};         ///< lists after a 410 (resourceVersion gone)
    /// Unix time (ms) when a pass over every target last ended without an error; 0: never.
    std::atomic<std::int64_t> last_sync_unix_ms{0};
};

/// One stream to run: ConfigMaps of a namespace, of the cluster (namespace empty), or the
/// namespaces matching a label selector.
struct StreamSpec {
    std::string key;
    std::string namespace_name;
    bool namespaces = false;
    kube::Kind kind = kube::kConfigMap;  ///< of the objects (unless `namespaces`)
    /// Filtered by the server: a selector rule's sources, managed copies, one named ConfigMap.
    std::string label_selector;
    std::string field_selector;
    std::string resource_version;  ///< resume from here; empty: list first
    /// Which ConfigMaps matter (cluster scope sees all of them); called from stream threads.
    std::function<bool(const std::string& ns, const std::string& name)> relevant;
    /// Whether the loop already holds this state of the object; called from stream threads.
    std::function<bool(const kube::Object&)> known;
};

/// Runs streams without a thread each: a stream lists when it has no resourceVersion, watches
/// from it (the watch open on the transport's shared loop, no thread waiting for it), records
/// every event's RV (bookmarks too), re-watches from it after a close, backs off (0.8 s
/// doubling to 30 s, jitter) after failures, and relists after a 410. Lists and the opening of
/// watches run on a few worker threads, started when there is such work and gone when there is
/// none: a thousand streams watching cost a thousand open watches, not a thousand threads.
class StreamRunner {
  public:
    StreamRunner(kube::ApiClient& api, EventQueue& queue, int chunk_size,
                 std::function<void(const std::string&)> log, WatchStats& stats);
    ~StreamRunner();
    StreamRunner(const StreamRunner&) = delete;
    StreamRunner& operator=(const StreamRunner&) = delete;

    void start(StreamSpec spec);
    /// Stops one stream (a namespace that no longer matches); returns once it has ended.
    void stop(const std::string& key);
    /// Stops all streams; returns once they have ended.
    void stop_all();
    bool running(const std::string& key) const;
    /// What keeps a stream from reaching the server now (no answer: a transport failure it
    /// retries after a backoff); nothing when every stream reached it since, or is within its
    /// first retry window (the backoff plus a grace) with no failure again.
    std::optional<std::string> unreachable() const;
    /// Adds a worker for steps that are due, if there is none (every runner of the process
    /// shares a bound on workers stepping at once: one whose steps found no free slot is
    /// kicked by its owner, which does so about every 200 ms).
    void kick();

  private:
    struct Stream;  // stream_runner.cpp
    using StreamPtr = std::shared_ptr<Stream>;
    using Clock = std::chrono::steady_clock;

    /// On a worker: lists if needed, then opens the watch.
    void step(const StreamPtr& s);
    void open_watch(const StreamPtr& s);
    /// On the transport's thread: what follows a watch's end.
    void watch_ended(const StreamPtr& s, std::exception_ptr error);
    /// What follows a failed step or watch: a relist after a 410, else a retry after backoff.
    void failed(const StreamPtr& s, std::exception_ptr error);
    /// `unreachable`: the server gave no answer (unreachable()).
    void retry_later(const StreamPtr& s, const std::string& what, bool unreachable = false);
    /// The stream reached its server (an event, a list).
    void reached(Stream& s);
    /// The stream's next step after `delay`; ends it instead when it was stopped.
    void schedule(const StreamPtr& s, std::chrono::milliseconds delay);
    std::string relist(const Stream& s);
    /// A worker's loop: takes due steps until none is left to take.
    void work();
    /// Starts a worker when steps wait for one and a step slot is free; under mutex_.
    void add_worker_if_needed();
    void wait_ended(const std::vector<StreamPtr>& streams);

    kube::ApiClient& api_;
    EventQueue& queue_;
    int chunk_size_;
    std::function<void(const std::string&)> log_;
    WatchStats& stats_;
    mutable std::mutex mutex_;         ///< guards all below and each Stream's `phase`
    std::condition_variable changed_;  ///< a step is due, a stream ended, a worker left
    std::map<std::string, StreamPtr> streams_;
    std::multimap<Clock::time_point, StreamPtr> due_;
    /// Workers running; lists run at most this many at once: a thousand streams starting
    /// together (a Secret rule watches each target namespace) once held 278 connections open.
    /// Every runner's working workers together are bounded too (StepSlots).
    static constexpr int kMaxWorkers = 16;
    int workers_ = 0;
    bool timed_wait_ = false;  ///< a worker waits for the earliest step that is not due yet
};

}  // namespace cmsync
