#include "watch/watch_streams.hpp"

#include <utility>

namespace cmsync {

void EventQueue::push(StreamEvent event) {
    event.received = std::chrono::steady_clock::now();
    if (observe_) {
        observe_(event);
    }
    {
        std::lock_guard guard(mutex_);
        items_.push_back(std::move(event));
    }
    ready_.notify_one();
    if (on_push_) {
        on_push_();
    }
}

std::deque<StreamEvent> EventQueue::pop_all(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [&] { return !items_.empty(); });
    std::deque<StreamEvent> out;
    out.swap(items_);
    return out;
}

void EventQueue::compact(const std::function<bool(const kube::Object&)>& known,
                         const std::function<bool(const std::string& stream)>& of_stream) {
    std::lock_guard guard(mutex_);
    for (auto& item : items_) {
        if (!of_stream || of_stream(item.stream)) {
            forget_values_if_known(item, known);
        }
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

}  // namespace cmsync
