#include "watch/copy_cache.hpp"

#include <algorithm>

#include "plan/ownership.hpp"
#include "watch/sealed.hpp"

namespace cmsync {

CopyCache::CopyCache(std::string source_namespace, kube::Kind kind, std::string source_cluster)
    : source_namespace_(std::move(source_namespace)),
      kind_(kind),
      source_cluster_(std::move(source_cluster)) {}

void CopyCache::keep(Entry& entry, const std::optional<kube::Object>& now) {
    entry.copy.reset();
    if (!now) {
        return;
    }
    if (!copy_of(*now, {source_namespace_, now->name}, source_cluster_)) {
        return;
    }
    // A sensitive kind's copies are held sealed (digests, never values).
    const auto held = kind_.sensitive ? std::optional(sealed(*now)) : std::nullopt;
    const auto& object = held ? *held : *now;
    Copy copy;
    copy.resource_version = object.resource_version;
    if (object.raw.empty()) {
        auto meta = object;  // built here, not read: rare
        meta.data.clear();
        meta.sealed = false;
        copy.raw = kube::object_to_json(meta);
    } else {
        copy.raw = object.raw;
    }
    for (const auto& [key, value] : object.data) {
        copy.data.emplace_back(key, intern(value));
    }
    entry.copy = std::move(copy);
}

CopyCache::SharedValue CopyCache::intern(const kube::Value& value) {
    const auto hash =
        std::hash<std::string>{}(value.bytes) ^ static_cast<std::size_t>(value.binary);
    const auto [first, last] = pool_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
        if (*it->second == value) {
            return it->second;
        }
    }
    if (pool_.size() >= 2 * pool_swept_size_ + 64) {
        // Under mutex_, and no SharedValue leaves the cache: a count of one is the pool's own.
        std::erase_if(pool_, [](const auto& e) { return e.second.use_count() == 1; });
        pool_swept_size_ = pool_.size();
    }
    return pool_.emplace(hash, std::make_shared<const kube::Value>(value))->second;
}

void CopyCache::seen(Entry& entry, const std::optional<kube::Object>& now) {
    entry.tracked = true;
    entry.seen_exists = now.has_value();
    entry.seen_rv = now ? now->resource_version : std::string();
    entry.awaiting.reset();
    keep(entry, now);
}

void CopyCache::drop_if_empty(const std::pair<std::string, std::string>& key) {
    const auto it = entries_.find(key);
    if (it != entries_.end() && !it->second.tracked && !it->second.copy) {
        entries_.erase(it);
    }
}

bool CopyCache::from_watch(const std::string& ns, const std::string& name,
                           const std::optional<kube::Object>& now) {
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
                          const std::optional<kube::Object>& now) {
    std::lock_guard guard(mutex_);
    seen(entries_[{ns, name}], now);
}

void CopyCache::learned(const std::string& ns, const std::string& name,
                        const std::optional<kube::Object>& now) {
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

bool CopyCache::holds(const kube::Object& cm) const {
    std::lock_guard guard(mutex_);
    const auto it = entries_.find({cm.namespace_name, cm.name});
    if (it == entries_.end()) {
        return false;
    }
    const auto& entry = it->second;
    // A copy this watcher just created is not tracked yet (nothing awaited), but its
    // resourceVersion says as much: the same version is the same object.
    return entry.copy && entry.copy->resource_version == cm.resource_version &&
           (!entry.awaiting || *entry.awaiting == cm.resource_version);
}

bool CopyCache::from_watch_held(const std::string& ns, const std::string& name,
                                const std::string& resource_version) {
    std::lock_guard guard(mutex_);
    auto& entry = entries_[{ns, name}];
    if (entry.awaiting && *entry.awaiting != resource_version) {
        return false;  // a newer state was learned since the stream asked
    }
    entry.tracked = true;
    entry.seen_exists = true;
    entry.seen_rv = resource_version;
    entry.awaiting.reset();
    if (entry.copy && entry.copy->resource_version != resource_version) {
        entry.copy.reset();  // forgotten and learned again meanwhile: read when needed
    }
    return true;
}

std::optional<kube::Object> CopyCache::find(const std::string& ns, const std::string& name) const {
    Copy copy;
    {
        std::lock_guard guard(mutex_);
        const auto it = entries_.find({ns, name});
        if (it == entries_.end() || !it->second.copy) {
            return std::nullopt;
        }
        copy = *it->second.copy;
    }
    auto cm = kube::object_from_json(kind_, copy.raw, true);
    for (const auto& [key, value] : copy.data) {
        cm.data.emplace(key, *value);
    }
    cm.sealed = kind_.sensitive;
    return cm;
}

void CopyCache::forget_namespace(const std::string& ns) {
    std::lock_guard guard(mutex_);
    entries_.erase(entries_.lower_bound({ns, ""}), entries_.lower_bound({ns + '\0', ""}));
}

void CopyCache::forget_name(const std::string& name) {
    std::lock_guard guard(mutex_);
    // The copies go; what the watch delivered stays, so that an event older than what the
    // watcher writes next (orphaning the copies) is still told apart.
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->first.second == name) {
            it->second.copy.reset();
            if (!it->second.tracked) {
                it = entries_.erase(it);
                continue;
            }
        }
        ++it;
    }
}

bool CopyCache::has_copy(const std::string& ns, const std::string& name) const {
    std::lock_guard guard(mutex_);
    const auto it = entries_.find({ns, name});
    return it != entries_.end() && it->second.copy.has_value();
}

std::size_t CopyCache::copies() const {
    std::lock_guard guard(mutex_);
    return static_cast<std::size_t>(std::count_if(
        entries_.begin(), entries_.end(), [](const auto& e) { return e.second.copy.has_value(); }));
}

std::size_t CopyCache::copies_in(const std::set<std::string>& namespaces,
                                 const std::set<std::string>& names) const {
    std::lock_guard guard(mutex_);
    return static_cast<std::size_t>(
        std::count_if(entries_.begin(), entries_.end(), [&](const auto& e) {
            return e.second.copy.has_value() && namespaces.count(e.first.first) != 0 &&
                   names.count(e.first.second) != 0;
        }));
}

}  // namespace cmsync
