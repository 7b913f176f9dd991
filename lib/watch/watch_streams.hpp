#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
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
    /// (StreamEvent::known), so a burst queued while the loop writes stays small.
    void compact(const std::function<bool(const kube::Object&)>& known);

  private:
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

/// Runs each stream on its own thread: list when there is no resourceVersion, watch from it,
/// record every event's RV (bookmarks too), re-watch from it after a close, back off
/// (0.8 s doubling to 30 s, jitter) after failures, and relist after a 410.
class StreamRunner {
  public:
    StreamRunner(kube::ApiClient& api, EventQueue& queue, int chunk_size,
                 std::function<void(const std::string&)> log, WatchStats& stats);
    ~StreamRunner();
    StreamRunner(const StreamRunner&) = delete;
    StreamRunner& operator=(const StreamRunner&) = delete;

    void start(StreamSpec spec);
    /// Stops one stream (a namespace that no longer matches); joins it.
    void stop(const std::string& key);
    /// Stops all streams and joins them.
    void stop_all();
    bool running(const std::string& key) const;

  private:
    struct Stream {
        std::atomic<bool> stop{false};
        std::thread thread;
    };
    void run(StreamSpec spec, Stream& self);
    std::string relist(const StreamSpec& spec, const Stream& self);

    kube::ApiClient& api_;
    EventQueue& queue_;
    int chunk_size_;
    std::function<void(const std::string&)> log_;
    WatchStats& stats_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Stream>> streams_;
    /// Lists run at most this many at once: a thousand streams starting together (a Secret
    /// rule watches each target namespace) held 278 connections open, one per list in flight,
    /// and kept them pooled: 57 MiB at 1,000 namespaces (issue 27's benchmark).
    std::counting_semaphore<16> lists_{16};
};

}  // namespace cmsync
