#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "controller/event_correlator.hpp"
#include "kube/api_client.hpp"

namespace cmsync::controller {

struct EventRecorderOptions {
    /// reportingInstance: who reports, e.g. the Pod name (at most 128 bytes are sent).
    std::string reporting_instance;
    CorrelatorLimits limits;
    /// Writes waiting at most; more are dropped (and counted).
    std::size_t max_queue = 1000;
    /// How often the worker looks for series counts due; also the wait bound of stop().
    std::chrono::milliseconds tick{1000};
    /// A one-line warning, once per namespace and failure kind; empty: none.
    std::function<void(const std::string&)> log;
    /// Told each Event's outcome: "posted", "dropped" or "failed" (ControllerMetrics::count_event).
    std::function<void(std::string_view result)> count;
    std::function<EventTime()> now;            ///< defaults to system_clock
    std::function<std::string()> name_suffix;  ///< defaults to 16 random hex digits
};

/// Posts events.k8s.io/v1 Events about ConfigMaps, best effort: record() never blocks or
/// throws; a worker thread correlates and sends them through `api` (which must outlive this).
class EventRecorder {
  public:
    EventRecorder(kube::ApiClient& api, EventRecorderOptions options);
    ~EventRecorder();
    EventRecorder(const EventRecorder&) = delete;
    EventRecorder& operator=(const EventRecorder&) = delete;

    /// Queues `occurrence` (dropped and counted when the queue is full or stopped).
    void record(EventOccurrence occurrence);
    /// Sends what is queued and pending series counts for up to about one tick, then joins the
    /// worker. Idempotent.
    void stop();

  private:
    struct Write {
        EventDecision::Kind kind;
        EventObject event;
    };
    void run();
    /// Whether stop() was called and its time is up.
    bool past_give_up();
    void send(const Write& write);
    /// Logs `what` once per namespace and kind of failure; counts a failure.
    void failed(const std::string& ns, const std::string& kind, const std::string& what);
    void count(std::string_view result) const;

    kube::ApiClient& api_;
    EventRecorderOptions options_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<EventOccurrence> queue_;
    std::deque<EventTime> queued_at_;
    EventCorrelator correlator_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point give_up_;  ///< when stopping: no write starts after
    std::set<std::string> logged_;  ///< "namespace\0kind" already logged (worker only)
    std::thread worker_;
};

/// 16 random lowercase hex digits.
std::string random_hex16();

}  // namespace cmsync::controller
