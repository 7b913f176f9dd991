#include "sync/copy_cache.hpp"

#include <algorithm>

#include "sync/ownership.hpp"

namespace cmsync {

CopyCache::CopyCache(std::string source_namespace)
    : source_namespace_(std::move(source_namespace)) {}

void CopyCache::keep(Entry& entry, const std::optional<kube::ConfigMap>& now) const {
    if (now) {
        const auto it = now->annotations.find(kSyncFromAnnotation);
        if (it != now->annotations.end() && it->second == source_namespace_ + "/" + now->name) {
            entry.copy = now->raw.empty() ? kube::configmap_to_json(*now) : now->raw;
            return;
        }
    }
    entry.copy.clear();
}

void CopyCache::seen(Entry& entry, const std::optional<kube::ConfigMap>& now) const {
    entry.tracked = true;
    entry.seen_exists = now.has_value();
    entry.seen_rv = now ? now->resource_version : std::string();
    entry.awaiting.reset();
    keep(entry, now);
}

void CopyCache::drop_if_empty(const std::pair<std::string, std::string>& key) {
    const auto it = entries_.find(key);
    if (it != entries_.end() && !it->second.tracked && it->second.copy.empty()) {
        entries_.erase(it);
    }
}

bool CopyCache::from_watch(const std::string& ns, const std::string& name,
                           const std::optional<kube::ConfigMap>& now) {
    std::lock_guard guard(mutex_);
    auto& entry = entries_[{ns, name}];
    if (entry.awaiting) {
        const bool arrived =
            now ? now->resource_version == *entry.awaiting : entry.awaiting->empty();
        if (!arrived) {
            return false;
        }
    }
    seen(entry, now);
    return true;
}

void CopyCache::from_list(const std::string& ns, const std::string& name,
                          const std::optional<kube::ConfigMap>& now) {
    std::lock_guard guard(mutex_);
    seen(entries_[{ns, name}], now);
}

void CopyCache::learned(const std::string& ns, const std::string& name,
                        const std::optional<kube::ConfigMap>& now) {
    std::lock_guard guard(mutex_);
    const std::pair key{ns, name};
    auto& entry = entries_[key];
    keep(entry, now);
    if (entry.tracked) {
        // Not delivered yet unless the watch's last state is this one (a write the server
        // found to change nothing answers with the state it already had).
        const bool delivered =
            now ? entry.seen_exists && entry.seen_rv == now->resource_version : !entry.seen_exists;
        if (delivered) {
            entry.awaiting.reset();
        } else {
            entry.awaiting = now ? now->resource_version : std::string();
        }
    }
    // Untracked (the watch has not reported on it: a new target namespace or source name):
    // nothing says which events are older, so none is skipped.
    drop_if_empty(key);
}

std::optional<kube::ConfigMap> CopyCache::find(const std::string& ns,
                                               const std::string& name) const {
    std::string json;
    {
        std::lock_guard guard(mutex_);
        const auto it = entries_.find({ns, name});
        if (it == entries_.end() || it->second.copy.empty()) {
            return std::nullopt;
        }
        json = it->second.copy;
    }
    return kube::configmap_from_json(json, true);
}

void CopyCache::forget_namespace(const std::string& ns) {
    std::lock_guard guard(mutex_);
    entries_.erase(entries_.lower_bound({ns, ""}), entries_.lower_bound({ns + '\0', ""}));
}

void CopyCache::forget_name(const std::string& name) {
    std::lock_guard guard(mutex_);
    std::erase_if(entries_, [&](const auto& entry) { return entry.first.second == name; });
}

std::size_t CopyCache::copies() const {
    std::lock_guard guard(mutex_);
    return static_cast<std::size_t>(std::count_if(
        entries_.begin(), entries_.end(), [](const auto& e) { return !e.second.copy.empty(); }));
}

}  // namespace cmsync
