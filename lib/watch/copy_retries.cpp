#include "watch/copy_retries.hpp"

namespace cmsync {

void CopyRetries::failed(const kube::ObjectRef& copy, Clock::time_point now, double jitter) {
    std::lock_guard guard(mutex_);
    auto& entry = entries_[copy];
    entry.due = now + entry.backoff.next(jitter);
    entry.taken = false;
}

void CopyRetries::settled(const kube::ObjectRef& copy) {
    std::lock_guard guard(mutex_);
    entries_.erase(copy);
}

std::map<std::string, std::set<std::string>> CopyRetries::take_due(Clock::time_point now) {
    std::lock_guard guard(mutex_);
    std::map<std::string, std::set<std::string>> due;
    for (auto& [copy, entry] : entries_) {
        if (!entry.taken && entry.due <= now) {
            entry.taken = true;
            due[copy.name].insert(copy.namespace_name);
        }
    }
    return due;
}

void CopyRetries::forget_namespace(const std::string& ns) {
    std::lock_guard guard(mutex_);
    std::erase_if(entries_, [&](const auto& e) { return e.first.namespace_name == ns; });
}

void CopyRetries::forget_name(const std::string& name) {
    std::lock_guard guard(mutex_);
    std::erase_if(entries_, [&](const auto& e) { return e.first.name == name; });
}

void CopyRetries::clear() {
    std::lock_guard guard(mutex_);
    entries_.clear();
}

std::size_t CopyRetries::size() const {
    std::lock_guard guard(mutex_);
    return entries_.size();
}

}  // namespace cmsync
