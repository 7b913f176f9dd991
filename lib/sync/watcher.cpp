#include "sync/watcher.hpp"

#include <fmt/format.h>

#include "sync/ownership.hpp"
#include "sync/parallel.hpp"
#include "sync/sha256.hpp"
#include "sync/sync_report.hpp"

namespace cmsync {

namespace {

constexpr const char* kNamespacesStream = "#namespaces";
constexpr const char* kClusterStream = "*";
// awaited_rv_ value: the source stream must deliver the source's delete (or deselection).
constexpr const char* kAwaitDelete = "";
// Replayed target events read the sources again at most this often.
constexpr std::chrono::seconds kRefreshInterval{1};

bool same_data(const kube::ConfigMap& a, const kube::ConfigMap& b) {
    return a.data == b.data;
}

std::vector<std::string> changed_keys(const TargetPlan& plan) {
    std::vector<std::string> keys;
    for (const auto& k : plan.keys) {
        if (k.action != KeyAction::unchanged && k.action != KeyAction::untouched) {
            keys.push_back(fmt::format("{} {}", to_string(k.action), k.key));
        }
    }
    return keys;
}

}  // namespace

Watcher::Watcher(kube::ApiClient& api, WatchConfig config,
                 std::function<void(const WatchAction&)> on_action,
                 std::function<void(const std::string&)> log)
    : api_(api),
      config_(std::move(config)),
      on_action_(std::move(on_action)),
      log_(std::move(log)),
      copies_(config_.request.source_namespace) {
    config_.write.observed = [this](const std::string& ns, const std::string& name,
                                    const std::optional<kube::ConfigMap>& now) {
        copies_.learned(ns, name, now);
    };
    const auto& sel = config_.request.selection;
    if (!sel.label_selector.empty()) {
        selector_ = LabelSelector::parse(sel.label_selector);
        if (!selector_) {
            throw UsageError(fmt::format("invalid label selector \"{}\"", sel.label_selector));
        }
    }
}

Watcher::~Watcher() = default;

std::string Watcher::source_digest(const kube::ConfigMap& cm) const {
    std::string all;
    for (const auto& [key, value] : cm.data) {
        all += fmt::format("{}:{}:{}:{}\n", key, value.binary ? 'b' : 't', value.bytes.size(),
                           sha256_hex(value.bytes));
    }
    return sha256_hex(all);
}

bool Watcher::selected(const kube::ConfigMap& cm) const {
    const auto& sel = config_.request.selection;
    if (sel.all) {
        return true;
    }
    if (selector_) {
        return selector_->matches(cm.labels);
    }
    return std::find(sel.names.begin(), sel.names.end(), cm.name) != sel.names.end();
}

bool Watcher::relevant(const std::string& ns, const std::string& name) const {
    std::lock_guard guard(mutex_);
    if (ns == config_.request.source_namespace) {
        return true;
    }
    return targets_.count(ns) != 0 && source_names_.count(name) != 0;
}

StreamSpec Watcher::configmap_stream(const std::string& key, const std::string& ns,
                                     const std::string& rv) {
    StreamSpec spec;
    spec.key = key;
    spec.namespace_name = ns;
    spec.resource_version = rv;
    spec.relevant = [this](const std::string& n, const std::string& name) {
        return relevant(n, name);
    };
    spec.known = [this](const kube::ConfigMap& cm) { return held(cm); };
    return spec;
}

bool Watcher::held(const kube::ConfigMap& cm) const {
    return cm.namespace_name != config_.request.source_namespace && copies_.holds(cm);
}

bool Watcher::leading() const {
    return !config_.write.may_write || config_.write.may_write();
}

void Watcher::beat() {
    beat_ = Clock::now().time_since_epoch().count();
}

std::chrono::steady_clock::time_point Watcher::last_beat() const {
    return Clock::time_point(Clock::duration(beat_.load()));
}

void Watcher::report(const TargetOutcome& o) {
    beat();
    WatchAction action;
    action.target = o.namespace_name + "/" + o.name;
    action.action = sync_result(o);
    action.keys = changed_keys(o.plan);
    action.uid = o.plan.target_uid;
    action.verb = o.plan.delete_copy ? "delete" : o.plan.target_exists ? "update" : "create";
    action.conflicts_retried = o.conflicts_retried;
    if (!o.error.empty()) {
        action.detail = o.error;
        action.reason = "WriteFailed";
    } else if (o.plan.action == TargetAction::conflict) {
        const bool orphaned = o.plan.message.rfind("orphaned", 0) == 0;
        action.action = orphaned ? "orphaned" : "drift";
        std::lock_guard guard(mutex_);
        // Keyed by what is reported too: a drifted copy whose source is then deleted is, in
        // the same state, an orphan now (found by the soak, issue 17).
        auto& seen = drift_seen_[action.target];
        const auto state = action.action + " " + o.plan.target_resource_version;
        if (seen == state) {
            return;  // this state of the copy was reported already
        }
        seen = state;
        action.reason = orphaned ? "Orphaned" : o.plan.hand_edited ? "Drift" : "Conflict";
        action.detail = o.plan.message;
    } else if (o.plan.action == TargetAction::unchanged || !o.applied) {
        return;
    }
    on_action_(action);
}

void Watcher::handle_target(const std::string& ns, const std::string& name,
                            const std::optional<kube::ConfigMap>& copy) {
    const auto it = sources_.find(name);
    if (it == sources_.end()) {
        return;
    }
    if (!leading()) {
        return;  // a standby: the leader acts on it
    }
    TargetOutcome o{source_id(it->second), ns, name, {}, ""};
    o.plan = plan_target(
        {&it->second, copy ? &*copy : nullptr, ns, config_.write.keys, config_.write.force});
    apply_outcome(api_, it->second, o, config_.write);
    report(o);
}

void Watcher::sync_sources(const std::vector<std::string>& names,
                           const std::set<std::string>& namespaces, bool fresh) {
    if (!leading()) {
        return;
    }
    std::vector<const kube::ConfigMap*> sources;
    std::vector<KeyHashes> digests;  // of each source's values: hashed once, not per copy
    for (const auto& name : names) {
        if (const auto it = sources_.find(name); it != sources_.end()) {
            sources.push_back(&it->second);
            digests.push_back(value_digests(it->second));
        }
    }
    const std::vector<std::string> list(namespaces.begin(), namespaces.end());
    std::atomic<bool> failed{false};
    // One pool for every (source, namespace) pair: a burst of changed sources keeps every
    // worker busy to the end instead of waiting for each source's slowest write. Meanwhile the
    // echoes of these writes queue up: those whose answer came back are made small.
    const auto compact = [this] {
        queue_.compact([this](const kube::ConfigMap& cm) { return held(cm); });
    };
    parallel_for(
        sources.size() * list.size(), config_.request.concurrency,
        [&](std::size_t i) {
            const auto& source = *sources[i / list.size()];
            const auto& ns = list[i % list.size()];
            const auto& source_digests = digests[i / list.size()];
            TargetOutcome o{source_id(source), ns, source.name, {}, ""};
            try {
                // The cached copy saves a read; if it is stale, the write meets a 409 and the
                // writer reads the copy afresh.
                auto copy = fresh ? std::nullopt : copies_.find(ns, source.name);
                if (!copy) {
                    copy = api_.get_configmap(ns, source.name);
                    copies_.learned(ns, source.name, copy);
                }
                o.plan = plan_target({&source, copy ? &*copy : nullptr, ns, config_.write.keys,
                                      config_.write.force, &source_digests});
                apply_outcome(api_, source, o, config_.write);
            } catch (const std::exception& e) {
                o.error = e.what();
            }
            if (!o.error.empty()) {
                failed = true;
            }
            report(o);
        },
        compact);
    if (!failed) {
        stats_.last_sync_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
    }
}

void Watcher::orphan(const std::string& name, const std::string& ns) {
    if (!leading()) {
        return;  // the leader reports (or prunes) it; a new leader's repair finds it
    }
    const auto from = config_.request.source_namespace + "/" + name;
    TargetOutcome o{from, ns, name, {}, ""};
    try {
        const auto copy = api_.get_configmap(ns, name);
        if (!copy) {
            return;
        }
        o.plan = plan_orphan(*copy, from, config_.prune, config_.write.force);
        const Replanner replan = [&](const std::optional<kube::ConfigMap>& current) {
            return current ? plan_orphan(*current, from, config_.prune, config_.write.force)
                           : TargetPlan{};
        };
        apply_outcome(api_, replan, o, config_.write);
    } catch (const std::exception& e) {
        o.error = e.what();
    }
    report(o);
}

void Watcher::handle_source(const kube::WatchEvent& event, Clock::time_point at, bool replayed) {
    const auto& name = event.name;
    const bool was = sources_.count(name) != 0;
    const bool gone =
        event.type == kube::WatchEventType::deleted || (event.object && !selected(*event.object));
    if (gone) {
        if (!was) {
            return;
        }
        sources_.erase(name);
        schedule_.forget(name);
        copies_.forget_name(name);
        log_(fmt::format("source {}/{} is gone", config_.request.source_namespace, name));
        std::set<std::string> targets;
        {
            std::lock_guard guard(mutex_);
            source_names_.erase(name);
            targets = targets_;
        }
        for (const auto& ns : targets) {
            orphan(name, ns);
        }
        return;
    }
    auto cm = *event.object;
    cm.raw.clear();
    if (was && same_data(sources_.at(name), cm)) {
        sources_[name] = std::move(cm);  // labels or annotations only: nothing to copy
        return;
    }
    {
        std::lock_guard guard(mutex_);
        source_names_.insert(name);
    }
    sources_[name] = std::move(cm);
    schedule_.changed(name, at, replayed);  // coalesced: latest wins (PassSchedule)
}

void Watcher::handle_relist(StreamEvent& event) {
    const auto& source_ns = config_.request.source_namespace;
    const bool cluster = event.stream == kClusterStream;
    const bool covers_source = (cluster && !split_cluster_) || event.stream == source_ns;
    // A list of managed copies only says nothing of the other ConfigMaps of a target: a copy
    // not listed is to be read, not taken as missing.
    const bool complete = !(cluster && split_cluster_);
    std::set<std::string> covered;
    {
        std::lock_guard guard(mutex_);
        if (event.stream == kClusterStream) {
            covered = targets_;
        } else if (targets_.count(event.stream) != 0) {
            covered.insert(event.stream);
        }
    }
    std::map<std::string, std::map<std::string, kube::ConfigMap>> copies;
    std::vector<kube::ConfigMap> listed_sources;
    for (auto& cm : event.items) {
        if (cm.namespace_name == source_ns) {
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
            return;  // the next relist or resync repairs this namespace
        }
    }
    if (covers_source) {
        awaited_rv_.clear();  // the source stream's own list: the current state, in order
        apply_listed_sources(std::move(listed_sources));
    }
    struct Task {
        std::string ns;
        std::string name;
        std::optional<kube::ConfigMap> copy;
    };
    std::vector<Task> tasks;
    std::map<std::string, std::set<std::string>> unknown;  // name -> namespaces to read
    for (const auto& ns : covered) {
        for (const auto& [name, source] : sources_) {
            auto& listed = copies[ns];
            const auto it = listed.find(name);
            auto copy = it == listed.end() ? std::nullopt
                                           : std::optional<kube::ConfigMap>(std::move(it->second));
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
    parallel_for(tasks.size(), config_.request.concurrency,
                 [&](std::size_t i) { handle_target(tasks[i].ns, tasks[i].name, tasks[i].copy); });
    for (const auto& [name, namespaces] : unknown) {
        sync_sources({name}, namespaces);  // reads what the cache does not know
    }
}

void Watcher::add_target(const std::string& ns, bool list_now) {
    {
        std::lock_guard guard(mutex_);
        const auto& excluded = config_.request.exclude_namespaces;
        if (ns == config_.request.source_namespace ||
            std::find(excluded.begin(), excluded.end(), ns) != excluded.end() ||
            !targets_.insert(ns).second) {
            return;
        }
    }
    log_(fmt::format("namespace {} is a target now", ns));
    if (!cluster_scope_ && list_now) {
        streams_->start(configmap_stream(ns, ns, ""));  // lists, then the pass for it
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
        }
        log_(fmt::format("namespace {} no longer matches --target-selector", event.name));
        copies_.forget_namespace(event.name);
        if (!cluster_scope_) {
            streams_->stop(event.name);
            first_lists_.erase(event.name);
        }
        return;
    }
    add_target(event.name, true);
}

void Watcher::handle(StreamEvent& event) {
    if (!event.resource_version.empty()) {
        stream_rvs_[event.stream] = event.resource_version;
    }
    if (event.kind == StreamEvent::Kind::relisted) {
        handle_relist(event);
        if (first_lists_.erase(event.stream) != 0 && first_lists_.empty()) {
            ready_ = true;
        }
        return;
    }
    auto& e = event.event;
    if (e.type == kube::WatchEventType::bookmark || e.type == kube::WatchEventType::error) {
        return;
    }
    if (event.stream == kNamespacesStream) {
        handle_namespace(e);
        return;
    }
    if (e.namespace_name == config_.request.source_namespace) {
        if (split_cluster_ && event.stream == kClusterStream) {
            return;  // a managed ConfigMap that happens to be in the source namespace
        }
        if (caught_up(e)) {
            handle_source(e, event.received, event.replayed);
        }
        return;
    }
    bool target = false;
    {
        std::lock_guard guard(mutex_);
        target = targets_.count(e.namespace_name) != 0;
    }
    if (!target) {
        return;
    }
    std::optional<kube::ConfigMap> copy;
    if (event.known) {
        // The echo of this watcher's own write: the cache has its values.
        if (!copies_.from_watch_held(e.namespace_name, e.name, e.resource_version)) {
            return;
        }
        copy = copies_.find(e.namespace_name, e.name);
        if (!copy) {
            return;  // no longer held: the next pass reads it
        }
    } else {
        if (e.type != kube::WatchEventType::deleted) {
            copy = std::move(e.object);
        }
        if (!copies_.from_watch(e.namespace_name, e.name, copy)) {
            return;  // older than the state this watcher wrote or read since: nothing to plan
        }
    }
    if (event.replayed && Clock::now() - last_refresh_ > kRefreshInterval) {
        // A target watch back after an outage: the source watch may not have caught up yet
        // (each stream re-opens on its own backoff), so read the sources now rather than
        // copy stale data into this copy and write it again once the source catches up.
        try {
            refresh_sources();
        } catch (const std::exception& e) {
            log_(fmt::format("cannot read the sources: {}", e.what()));
        }
    }
    if (!schedule_.pending(e.name)) {
        handle_target(e.namespace_name, e.name, copy);
    }
}

void Watcher::refresh_sources() {
    last_refresh_ = Clock::now();
    std::vector<std::string> missing;  // gone: apply_listed_sources handles them as deletes
    auto listed = read_sources(api_, config_.request, &missing);
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

bool Watcher::use_cluster_scope(std::size_t target_count) {
    const bool automatic = config_.scope == WatchScope::automatic;
    if (config_.scope == WatchScope::namespaces ||
        (automatic && config_.request.target_selector.empty() &&
         target_count <= config_.cluster_threshold)) {
        return false;
    }
    // Namespace Roles are enough unless cluster scope is asked for (SPEC.md, Security): ask
    // the server before opening a watch that would only ever get 403.
    std::string why;
    try {
        if (api_.access_allowed("list", "configmaps", "") &&
            api_.access_allowed("watch", "configmaps", "")) {
            return true;
        }
        why = "forbidden";
    } catch (const std::exception& e) {
        if (!automatic) {
            return true;  // cannot tell: the user asked for it, the watch will say what fails
        }
        why = e.what();
    }
    if (!automatic) {
        throw Error(
            "--watch-scope cluster: not allowed to list and watch configmaps in all namespaces "
            "(check RBAC, or use --watch-scope namespaces)");
    }
    log_(
        fmt::format("cluster-wide list and watch of configmaps: {}; one watch per namespace "
                    "instead",
                    why));
    return false;
}

void Watcher::apply_listed_sources(std::vector<kube::ConfigMap> listed) {
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
        if (names.count(name) == 0) {
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
    sync_sources(names, targets, true);  // a safety net: reads every copy, not the cache
    schedule_.clear_pending();
}

void Watcher::save_state() {
    if (config_.state_file.empty()) {
        return;
    }
    WatchState state;
    state.scope = cluster_scope_ ? "cluster" : "namespaces";
    state.resource_versions = stream_rvs_;
    for (const auto& [name, cm] : sources_) {
        state.source_digests[name] = source_digest(cm);
    }
    write_file_atomically(config_.state_file, format_watch_state(state));
}

void Watcher::start_streams(const std::optional<WatchState>& resumed) {
    const auto rv_of = [&](const std::string& key) {
        if (!resumed) {
            return std::string();
        }
        const auto it = resumed->resource_versions.find(key);
        return it == resumed->resource_versions.end() ? std::string() : it->second;
    };
    std::set<std::string> targets;
    {
        std::lock_guard guard(mutex_);
        targets = targets_;
    }
    const auto& src = config_.request.source_namespace;
    // ConfigMap streams without a position list first; ready() waits for those lists.
    const auto start = [this](StreamSpec spec) {
        if (spec.resource_version.empty()) {
            first_lists_.insert(spec.key);
        }
        streams_->start(std::move(spec));
    };
    if (cluster_scope_) {
        // Filtered by the server, so a big cluster's unrelated ConfigMaps and their churn
        // never reach the watcher.
        auto spec = configmap_stream(kClusterStream, "", rv_of(kClusterStream));
        if (const auto& names = config_.request.selection.names; names.size() == 1) {
            spec.field_selector = "metadata.name=" + names.front();  // sources and copies alike
        } else {
            // No OR in field selectors: the sources come from their namespace's stream (by
            // label for a selector rule), the copies from one of managed ConfigMaps.
            split_cluster_ = true;
            spec.label_selector = std::string(kManagedLabel) + "=true";
            auto source = configmap_stream(src, src, rv_of(src));
            source.label_selector = config_.request.selection.label_selector;
            start(std::move(source));
        }
        start(std::move(spec));
    } else {
        start(configmap_stream(src, src, rv_of(src)));
        for (const auto& ns : targets) {
            start(configmap_stream(ns, ns, rv_of(ns)));
        }
    }
    if (!config_.request.target_selector.empty()) {
        StreamSpec spec;
        spec.key = kNamespacesStream;
        spec.namespaces = true;
        spec.label_selector = config_.request.target_selector;
        spec.resource_version = rv_of(kNamespacesStream);
        streams_->start(std::move(spec));
    }
}

void Watcher::run(const std::atomic<bool>& stop) {
    const auto& request = config_.request;
    std::optional<WatchState> resumed;
    if (!config_.state_file.empty()) {
        if (const auto text = read_file_if_exists(config_.state_file)) {
            resumed = parse_watch_state(*text, config_.state_file);
        }
    }
    const auto targets = resolve_targets(api_, request);
    cluster_scope_ = use_cluster_scope(targets.size());
    if (resumed && resumed->scope != (cluster_scope_ ? "cluster" : "namespaces")) {
        log_("state file was written for another watch scope: starting afresh");
        resumed.reset();
    }
    {
        std::lock_guard guard(mutex_);
        targets_.insert(targets.begin(), targets.end());
    }
    // The sources are read first, so that every target's first pass knows them. A named source
    // that does not exist is followed like the others: the source stream sees it created.
    std::vector<std::string> missing;
    for (auto& cm : read_sources(api_, request, &missing)) {
        const auto name = cm.name;
        if (resumed) {
            const auto it = resumed->source_digests.find(name);
            if (it == resumed->source_digests.end() || it->second != source_digest(cm)) {
                schedule_.changed(name, Clock::now(), false);  // changed while nobody watched
            }
        }
        cm.raw.clear();
        std::lock_guard guard(mutex_);
        source_names_.insert(name);
        sources_.emplace(name, std::move(cm));
    }
    for (const auto& name : missing) {
        log_(fmt::format("source ConfigMap \"{}\" not found in namespace \"{}\": waiting for it",
                         name, request.source_namespace));
    }
    if (resumed) {
        stream_rvs_ = resumed->resource_versions;
        for (const auto& [name, digest] : resumed->source_digests) {
            if (sources_.count(name) == 0) {
                for (const auto& ns : targets) {
                    orphan(name, ns);  // deleted while nobody watched
                }
            }
        }
        log_(fmt::format("resuming from state file {}", config_.state_file));
    }
    log_(fmt::format("watching {} source ConfigMap(s) in {} for {} target namespace(s), {} scope",
                     sources_.size(), request.source_namespace, targets.size(),
                     cluster_scope_ ? "cluster" : "namespace"));
    streams_ = std::make_unique<StreamRunner>(api_, queue_, request.chunk_size, log_, stats_);
    start_streams(resumed);
    ready_ = first_lists_.empty();
    auto last_resync = std::chrono::steady_clock::now();
    bool was_leading = leading();
    if (!was_leading) {
        log_("standby: watching, not writing until this replica leads");
    }
    while (!stop) {
        beat();
        if (const bool now_leading = leading(); now_leading != was_leading) {
            was_leading = now_leading;
            if (now_leading) {
                log_("leading: repairing every copy from its source");
                resync_all();  // what happened while standing by was seen but not written
                last_resync = std::chrono::steady_clock::now();
            } else {
                log_("not leading: writes stop");
            }
        }
        auto wait = std::chrono::milliseconds(200);
        if (const auto due = schedule_.next_due()) {
            wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*due - Clock::now()),
                              std::chrono::milliseconds(0), wait);
        }
        auto events = queue_.pop_all(wait);
        for (auto& event : events) {
            handle(event);
        }
        const auto due = schedule_.take_due(Clock::now());
        if (!due.empty()) {
            std::set<std::string> targets_now;
            {
                std::lock_guard guard(mutex_);
                targets_now = targets_;
            }
            const auto start = Clock::now();
            sync_sources(due, targets_now);
            const auto end = Clock::now();
            for (const auto& name : due) {
                schedule_.passed(name, start, end);
            }
        }
        if (config_.resync_period.count() > 0 &&
            std::chrono::steady_clock::now() - last_resync >= config_.resync_period) {
            resync_all();
            last_resync = std::chrono::steady_clock::now();
        }
        if (!events.empty()) {
            save_state();
        }
    }
    streams_->stop_all();
    save_state();
}

}  // namespace cmsync
