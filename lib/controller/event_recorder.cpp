#include "controller/event_recorder.hpp"

#include <fmt/format.h>

#include <random>

namespace cmsync::controller {

std::string random_hex16() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{:016x}", rng());
}

EventRecorder::EventRecorder(kube::ApiClient& api, EventRecorderOptions options)
    : api_(api),
      options_(std::move(options)),
      correlator_(options_.limits, options_.reporting_instance,
                  options_.name_suffix ? options_.name_suffix : random_hex16) {
    if (!options_.now) {
        options_.now = [] { return EventClock::now(); };
    }
    worker_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
    stop();
}

void EventRecorder::count(std::string_view result) const {
    if (options_.count) {
        options_.count(result);
    }
}

void EventRecorder::record(EventOccurrence occurrence) {
    const auto now = options_.now();
    {
        std::lock_guard lock(mutex_);
        if (!stopping_ && queue_.size() < options_.max_queue) {
            queue_.push_back(std::move(occurrence));
            queued_at_.push_back(now);
            wake_.notify_one();
            return;
        }
    }
    count("dropped");
}

void EventRecorder::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            stopping_ = true;
            give_up_ = std::chrono::steady_clock::now() + options_.tick;
        }
        wake_.notify_one();
    }
    if (worker_.joinable()) {
        worker_.join();
    }
}

bool EventRecorder::past_give_up() {
    std::lock_guard lock(mutex_);
    return stopping_ && std::chrono::steady_clock::now() >= give_up_;
}

void EventRecorder::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, options_.tick, [this] { return !queue_.empty() || stopping_; });
        auto batch = std::move(queue_);
        auto times = std::move(queued_at_);
        queue_.clear();
        queued_at_.clear();
        const bool stopping = stopping_;
        lock.unlock();

        std::vector<Write> writes;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto decision = correlator_.observe(batch[i], times[i]);
            if (decision.kind == EventDecision::Kind::drop) {
                count("dropped");
            } else if (decision.kind != EventDecision::Kind::later) {
                writes.push_back({decision.kind, std::move(decision.event)});
            }
        }
        for (auto& event : correlator_.flush(options_.now(), stopping)) {
            writes.push_back({EventDecision::Kind::patch, std::move(event)});
        }
        for (const auto& write : writes) {
            if (past_give_up()) {
                count("dropped");  // stop() is bounded: what is left is not sent
            } else {
                send(write);
            }
        }
        if (stopping) {
            return;
        }
        lock.lock();
    }
}

void EventRecorder::send(const Write& write) {
    const auto& ns = write.event.occurrence.regarding.namespace_name;
    try {
        if (write.kind == EventDecision::Kind::patch) {
            try {
                api_.patch_event(ns, write.event.name,
                                 series_patch_json(write.event.count, write.event.last_observed));
                count("posted");
                return;
            } catch (const ApiError& e) {
                if (e.code() != 404) {
                    throw;
                }
                // Gone (expired after its TTL, or never created): the series starts over.
            }
        }
        api_.create_event(ns, event_json(write.event));
        count("posted");
    } catch (const ApiError& e) {
        failed(ns, e.reason().empty() ? std::to_string(e.code()) : e.reason(), e.what());
    } catch (const Error& e) {
        failed(ns, "transport", e.what());
    }
}

void EventRecorder::failed(const std::string& ns, const std::string& kind,
                           const std::string& what) {
    count("failed");
    if (options_.log && logged_.insert(ns + '\0' + kind).second) {
        options_.log(fmt::format(
            "cannot record Events in namespace \"{}\" ({}): {}; not logged again", ns, kind, what));
    }
}

}  // namespace cmsync::controller
