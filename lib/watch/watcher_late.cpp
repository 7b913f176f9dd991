// Watcher: one stream behind another. Each namespace has a stream of its own, and a stopped
// process or an outage leaves them at different points: the source's stream may bring a delete
// the server has undone since, or a copy's stream a copy made from a source it has not brought
// yet. What the server has now decides, read by name.
#include <fmt/format.h>

#include "plan/ownership.hpp"
#include "watch/watcher.hpp"

namespace cmsync {

std::optional<kube::Object> Watcher::source_now(const std::string& name) {
    try {
        return source_api_.get(config_.spec.kind, config_.spec.source_namespace, name);
    } catch (const std::exception& e) {
        log_(fmt::format("cannot read source {}/{}: {}", config_.spec.source_namespace, name,
                         e.what()));
        throw;
    }
}

void Watcher::confirm_gone(kube::WatchEvent& event) {
    const bool gone =
        event.type == kube::WatchEventType::deleted || (event.object && !selected(*event.object));
    if (!gone || sources_.count(event.name) == 0) {
        return;
    }
    // Orphaning the copies of a source created again since would strip (with --prune, delete)
    // copies the new one owns, which a sync run may have written already.
    std::optional<kube::Object> now;
    try {
        now = source_now(event.name);
    } catch (const std::exception&) {
        return;  // the event is all there is to go by
    }
    if (!now || !selected(*now)) {
        return;
    }
    // Until the stream delivers this version, what it sends is older (as refresh_sources).
    awaited_rv_[event.name] = now->resource_version;
    event.type = kube::WatchEventType::modified;
    event.object = std::move(now);
}

bool Watcher::source_moved_on(const kube::Object& copy) {
    const auto it = sources_.find(copy.name);
    if (it == sources_.end()) {
        return false;
    }
    const auto version = copy.annotations.find(kSourceVersionAnnotation);
    if (version == copy.annotations.end() || version->second == it->second.resource_version ||
        !copy_of(copy, it->second.ref(), config_.write.source_cluster)) {
        return false;
    }
    // Made from a version of the source other than the one held: an older one (a copy not
    // written since, as one in conflict), or a newer one (a sync run, another replica) the
    // source's stream has yet to bring. Read once per version named.
    return versions_checked_[copy.name].insert(version->second).second;
}

void Watcher::read_source_now(const std::string& name, Clock::time_point at) {
    std::optional<kube::Object> now;
    try {
        now = source_now(name);
    } catch (const std::exception&) {
        return;  // planned from what is held; a stale plan meets a 409 or the next event
    }
    adopt_source(name, std::move(now), at);
}

void Watcher::adopt_source(const std::string& name, std::optional<kube::Object> now,
                           Clock::time_point at) {
    const auto it = sources_.find(name);
    if (it == sources_.end() || (now && it->second.resource_version == now->resource_version)) {
        return;  // gone meanwhile (its event handled), or the version held
    }
    kube::WatchEvent e;
    e.name = name;
    awaited_rv_[name] = now ? now->resource_version : "";
    if (now) {
        // The queue's older versions are skipped now: a pass has no reason to read it again.
        news_.queued(name, now->resource_version);
    }
    e.type = now ? kube::WatchEventType::modified : kube::WatchEventType::deleted;
    e.object = std::move(now);
    handle_source(e, at, false);
}

void Watcher::note_news(const StreamEvent& event) {
    // Only sources held: a pass plans nothing else (and a namespace's other objects would make
    // the record grow without end).
    const auto note = [this](const std::string& name, const std::string& rv) {
        {
            std::lock_guard guard(mutex_);
            if (source_names_.count(name) == 0) {
                return;
            }
        }
        news_.queued(name, rv);
    };
    if (event.kind == StreamEvent::Kind::relisted) {
        for (const auto& cm : event.items) {
            if (from_source(event.stream, cm.namespace_name)) {
                note(cm.name, cm.resource_version);
            }
        }
        return;
    }
    const auto& e = event.event;
    if (e.type != kube::WatchEventType::bookmark && e.type != kube::WatchEventType::error &&
        event.stream != kNamespacesStream && from_source(event.stream, e.namespace_name)) {
        note(e.name, e.resource_version);
    }
}

}  // namespace cmsync
