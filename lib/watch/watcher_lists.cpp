// Watcher: what lists bring (a stream's list or relist, a re-read of the sources, a resync) and
// target namespaces coming and going.
#include "watch/watcher.hpp"

#include <fmt/format.h>

#include "util/parallel.hpp"

namespace cmsync {

namespace {
// awaited_rv_ value: the source stream must deliver the source's delete (or deselection).
constexpr const char* kAwaitDelete = "";

// What a namespace stream's key covers: its namespace, and the one name it is limited to ("":
// every object of the namespace).
std::pair<std::string, std::string> stream_scope(const std::string& key) {
    const auto slash = key.find('/');
    if (slash == std::string::npos) {
        return {key, ""};
    }
    return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string no_position(const std::string&) {
    return "";
}
}  // namespace

bool Watcher::handle_relist(StreamEvent& event) {
    const auto& source_ns = config_.spec.source_namespace;
    const bool cluster = event.stream == kClusterStream;
    const bool of_source = source_stream(event.stream);
    const auto [stream_ns, only] =
        cluster ? std::pair<std::string, std::string>()
                : stream_scope(of_source ? event.stream.substr(std::string(kSourceKey).size())
                                         : event.stream);
    // Across clusters the source's own streams alone bring sources; in one cluster, the source
    // namespace's stream, or a cluster-wide one that is not split.
    const bool covers_source =
        across_ ? of_source : (cluster && !split_cluster_) || stream_ns == source_ns;
    // A list of managed copies only says nothing of the other ConfigMaps of a target: a copy
    // not listed is to be read, not taken as missing.
    const bool complete = !(cluster && split_cluster_);
    std::set<std::string> covered;
    {
        std::lock_guard guard(mutex_);
        if (of_source) {
            // the source cluster's: no target here
        } else if (event.stream == kClusterStream) {
            covered = targets_;
        } else if (targets_.count(stream_ns) != 0) {
            covered.insert(stream_ns);
        }
    }
    std::map<std::string, std::map<std::string, kube::Object>> copies;
    std::vector<kube::Object> listed_sources;
    for (auto& cm : event.items) {
        if (cm.namespace_name == source_ns && (covers_source || !across_)) {
            if (covers_source && selected(cm)) {
                listed_sources.push_back(std::move(cm));
            }
        } else if (covered.count(cm.namespace_name) != 0) {
            auto ns = cm.namespace_name;
            auto name = cm.name;
            copies[ns].emplace(std::move(name), std::move(cm));
        }
    }
    const bool first_list = listed_once_.insert(event.stream).second;
    if (!covers_source && !covered.empty() && !first_list) {
        // A target relisted after an outage or a 410: the source stream may not have caught up
        // yet, so read the sources now rather than copy stale data (and write twice).
        try {
            refresh_sources();
        } catch (const std::exception& e) {
            log_(fmt::format("cannot read the sources: {}", e.what()));
            return false;  // the next relist or resync repairs this namespace
        }
    }
    if (covers_source) {
        // The source stream's own list: the current state, in order.
        if (only.empty()) {
            awaited_rv_.clear();
        } else {
            awaited_rv_.erase(only);
        }
        apply_listed_sources(std::move(listed_sources), only);
    }
    struct Task {
        std::string ns;
        std::string name;
        std::optional<kube::Object> copy;
    };
    std::vector<Task> tasks;
    std::map<std::string, std::set<std::string>> unknown;  // name -> namespaces to read
    for (const auto& ns : covered) {
        for (const auto& [name, source] : sources_) {
            if (!only.empty() && name != only) {
                continue;  // another name's stream lists that one
            }
            auto& listed = copies[ns];
            const auto it = listed.find(name);
            auto copy = it == listed.end() ? std::nullopt
                                           : std::optional<kube::Object>(std::move(it->second));
            if (copy || complete) {
                copies_.from_list(ns, name, copy);
            }
            if (schedule_.pending(name)) {
                continue;  // the pass for the changed source covers it
            }
            if (copy || complete) {
                tasks.push_back({ns, name, std::move(copy)});
            } else {
                unknown[name].insert(ns);
            }
        }
    }
    std::atomic<bool> ok{true};
    parallel_for(tasks.size(), config_.run.concurrency, [&](std::size_t i) {
        if (!handle_target(tasks[i].ns, tasks[i].name, tasks[i].copy)) {
            ok = false;
        }
    });
    for (const auto& [name, namespaces] : unknown) {
        if (!sync_sources({name}, namespaces)) {  // reads what the cache does not know
            ok = false;
        }
    }
    return ok;
}

void Watcher::add_target(const std::string& ns, bool list_now) {
    {
        std::lock_guard guard(mutex_);
        if (!may_target(config_.spec, ns, !across_) || !targets_.insert(ns).second) {
            return;
        }
    }
    log_(fmt::format("namespace {} is a target now", ns));
    if (!cluster_scope_ && list_now) {
        for (auto& spec : namespace_streams(ns, no_position)) {
            streams_->start(std::move(spec));  // lists, then the pass for it
        }
        return;
    }
    if (list_now) {
        std::vector<std::string> names;
        for (const auto& [name, source] : sources_) {
            names.push_back(name);
        }
        sync_sources(names, {ns});
    }
}

void Watcher::handle_namespace(const kube::WatchEvent& event) {
    if (event.type == kube::WatchEventType::deleted) {
        {
            std::lock_guard guard(mutex_);
            if (targets_.erase(event.name) == 0) {
                return;
            }
            std::erase_if(out_of_step_,
                          [&](const auto& e) { return e.first.namespace_name == event.name; });
        }
        log_(fmt::format("namespace {} no longer matches --target-selector", event.name));
        copies_.forget_namespace(event.name);
        retries_.forget_namespace(event.name);
        if (!cluster_scope_) {
            bool awaited = false;
            for (const auto& spec : namespace_streams(event.name, no_position)) {
                streams_->stop(spec.key);
                awaited = first_lists_.erase(spec.key) != 0 || awaited;
            }
            if (awaited && first_lists_.empty()) {
                first_lists_done();
            }
        }
        return;
    }
    add_target(event.name, true);
}

void Watcher::refresh_sources() {
    last_refresh_ = Clock::now();
    std::vector<std::string> missing;  // gone: apply_listed_sources handles them as deletes
    auto listed = read_sources(source_api_, config_.spec, config_.run.chunk_size, &missing);
    // The source stream may be behind what was just read: until it delivers this version (or
    // the delete), what it sends is older and must not be copied (resourceVersions are only
    // compared for equality: the stream delivers one object's versions in order).
    std::set<std::string> names;
    for (const auto& cm : listed) {
        names.insert(cm.name);
        const auto it = sources_.find(cm.name);
        if (it == sources_.end() || it->second.resource_version != cm.resource_version) {
            awaited_rv_[cm.name] = cm.resource_version;
        }
    }
    for (const auto& [name, cm] : sources_) {
        if (names.count(name) == 0) {
            awaited_rv_[name] = kAwaitDelete;
        }
    }
    apply_listed_sources(std::move(listed));
}

bool Watcher::caught_up(const kube::WatchEvent& event) {
    const auto it = awaited_rv_.find(event.name);
    if (it == awaited_rv_.end()) {
        return true;
    }
    const bool reached = it->second == kAwaitDelete ? event.type == kube::WatchEventType::deleted ||
                                                          (event.object && !selected(*event.object))
                                                    : event.resource_version == it->second;
    if (reached) {
        awaited_rv_.erase(it);
    }
    return reached;
}

void Watcher::apply_listed_sources(std::vector<kube::Object> listed, const std::string& only) {
    std::set<std::string> names;
    for (auto& cm : listed) {
        names.insert(cm.name);
        kube::WatchEvent e;
        e.type = kube::WatchEventType::modified;
        e.name = cm.name;
        e.object = std::move(cm);
        handle_source(e, Clock::now(), false);
    }
    std::vector<std::string> missing;
    for (const auto& [name, cm] : sources_) {
        if (names.count(name) == 0 && (only.empty() || name == only)) {
            missing.push_back(name);
        }
    }
    for (const auto& name : missing) {
        kube::WatchEvent e;
        e.type = kube::WatchEventType::deleted;
        e.name = name;
        handle_source(e, Clock::now(), false);  // a delete the watch missed
    }
}

void Watcher::resync_all() {
    if (!leading()) {
        return;
    }
    log_("resync: full relist and repair");
    refresh_sources();
    std::set<std::string> targets;
    {
        std::lock_guard guard(mutex_);
        targets = targets_;
    }
    std::vector<std::string> names;
    for (const auto& [name, source] : sources_) {
        names.push_back(name);
    }
    // The passes due are this one; a source it reads again (adopt_source) gets its own after.
    schedule_.clear_pending();
    sync_sources(names, targets, true);  // a safety net: reads every copy, not the cache
}

}  // namespace cmsync
