#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kube/object.hpp"

namespace cmsync {

/// What `watch` knows of each copy (a ConfigMap named like a source, in a target namespace),
/// so that a source change costs one write per copy instead of a read and a write.
///
/// States come from two places: the watch (events and lists, in the stream's order) and what
/// the watcher learns outside it (the answer to its own write, a read after a 409). A learned
/// state is newer than any event still on its way, so until the watch delivers that state
/// (the same resourceVersion, or a delete), older events for the copy are reported as stale:
/// planning from them would only meet a 409. resourceVersions are compared for equality only.
///
/// Objects are kept only for copies of a source in `source_namespace` (sync-from
/// "SOURCE_NS/NAME" of the same name): each as its JSON less the values (ConfigMap::raw), and
/// its values shared with every other copy holding the same one, so 100 copies of a source
/// cost its values once; memory is bounded by sources x targets x the metadata of a copy. A
/// sensitive kind's copies are held sealed (watch/sealed.hpp): digests, never values. A
/// stale entry is harmless: writes carry its resourceVersion, and a 409 (or 404) makes the
/// writer read afresh. Thread-safe.
class CopyCache {
  public:
    /// Copies of `kind` from sources in `source_namespace` of cluster `source_cluster` as copies
    /// record it (empty: the copies' own cluster).
    explicit CopyCache(std::string source_namespace, kube::Kind kind = kube::kConfigMap,
                       std::string source_cluster = {});

    /// A watch event's state (nothing: deleted). False when it is older than a learned state
    /// the watch has not delivered yet: nothing is recorded, and the event is to be skipped.
    bool from_watch(const std::string& ns, const std::string& name,
                    const std::optional<kube::Object>& now);
    /// Whether the newest state held of the copy is `cm`'s (same resourceVersion), and no
    /// other is awaited: the event bringing it need not carry its values.
    bool holds(const kube::Object& cm) const;
    /// The watch delivered the state with `resource_version` that holds() said is held (it
    /// may have changed since): as from_watch, with the object kept if it is still that one.
    bool from_watch_held(const std::string& ns, const std::string& name,
                         const std::string& resource_version);
    /// A list's state (nothing: not listed): the whole truth at the list's resourceVersion.
    void from_list(const std::string& ns, const std::string& name,
                   const std::optional<kube::Object>& now);
    /// A state learned outside the watch: the answer to a write, a read (nothing: gone).
    void learned(const std::string& ns, const std::string& name,
                 const std::optional<kube::Object>& now);

    /// The copy to plan from, if known and ours; otherwise it is to be read. Sealed for a
    /// sensitive kind.
    std::optional<kube::Object> find(const std::string& ns, const std::string& name) const;
    /// How many copies of ours are known to exist.
    std::size_t copies() const;
    /// How many of them are in `namespaces` and named as one of `names`: what a status counts
    /// while the watcher has dropped a target or a source and not yet the cache's copies there.
    std::size_t copies_in(const std::set<std::string>& namespaces,
                          const std::set<std::string>& names) const;
    /// Whether the copy NS/NAME is known to exist and be ours.
    bool has_copy(const std::string& ns, const std::string& name) const;
    /// Every copy in `ns` (the namespace is no longer a target).
    void forget_namespace(const std::string& ns);
    /// Every copy of the source `name` (the source is gone); which of their states the watch
    /// delivered is kept.
    void forget_name(const std::string& name);

  private:
    using SharedValue = std::shared_ptr<const kube::Value>;
    /// The newest state of a copy of ours, as find() rebuilds it.
    struct Copy {
        std::string resource_version;
        std::string raw;                                        ///< ConfigMap::raw
        std::vector<std::pair<std::string, SharedValue>> data;  ///< in key order
    };
    struct Entry {
        bool tracked = false;  ///< the watch has reported on this copy and keeps doing so
        bool seen_exists = false;
        std::string seen_rv;  ///< the last state the watch delivered
        /// A learned state the watch has yet to deliver: its resourceVersion, "" for a delete.
        std::optional<std::string> awaiting;
        std::optional<Copy> copy;  ///< when the newest state is a copy of ours
    };
    void keep(Entry& entry, const std::optional<kube::Object>& now);
    void seen(Entry& entry, const std::optional<kube::Object>& now);
    void drop_if_empty(const std::pair<std::string, std::string>& key);
    /// The pool's value equal to `value`, added when there is none.
    SharedValue intern(const kube::Value& value);

    std::string source_namespace_;
    kube::Kind kind_;
    std::string source_cluster_;
    mutable std::mutex mutex_;
    /// Values by hash; declared before entries_, whose values it outlives. Values no copy
    /// holds any more are swept when the pool has doubled since the last sweep.
    std::unordered_multimap<std::size_t, SharedValue> pool_;
    std::size_t pool_swept_size_ = 0;
    std::map<std::pair<std::string, std::string>, Entry> entries_;  ///< (ns, name)
};

}  // namespace cmsync
