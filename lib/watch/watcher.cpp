#include "watch/watcher.hpp"

#include <fmt/format.h>

#include <random>

#include "plan/ownership.hpp"
#include "util/parallel.hpp"
#include "watch/sealed.hpp"

namespace cmsync {

namespace {

// Replayed target events read the sources again at most this often.
constexpr std::chrono::seconds kRefreshInterval{1};

double retry_jitter() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool same_data(const kube::Object& a, const kube::Object& b) {
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
      source_api_(config.source_api != nullptr ? *config.source_api : api),
      across_(config.source_api != nullptr && config.source_api != &api),
      config_(std::move(config)),
      on_action_(std::move(on_action)),
      log_(std::move(log)),
      copies_(config_.spec.source_namespace, config_.spec.kind, config_.write.source_cluster) {
    config_.write.observed = [this](const std::string& ns, const std::string& name,
                                    const std::optional<kube::Object>& now) {
        copies_.learned(ns, name, now);
    };
    queue_.observe([this](const StreamEvent& event) { note_news(event); });
    const auto& sel = config_.spec.selection;
    if (!sel.label_selector.empty()) {
        selector_ = LabelSelector::parse(sel.label_selector);
        if (!selector_) {
            throw UsageError(fmt::format("invalid label selector \"{}\"", sel.label_selector));
        }
    }
}

Watcher::~Watcher() {
    unsubscribe();  // begin() ran, end() did not: a failed turn
}

bool Watcher::selected(const kube::Object& cm) const {
    const auto& sel = config_.spec.selection;
    if (sel.all) {
        return true;
    }
    if (selector_) {
        return selector_->matches(cm.labels);
    }
    return std::find(sel.names.begin(), sel.names.end(), cm.name) != sel.names.end();
}

bool Watcher::source_stream(const std::string& key) const {
    return across_ && key.rfind(kSourceKey, 0) == 0;
}

bool Watcher::from_source(const std::string& key, const std::string& ns) const {
    if (across_) {
        return source_stream(key);
    }
    // In one cluster a cluster-wide stream brings both; split, it brings the copies alone.
    return ns == config_.spec.source_namespace && !(split_cluster_ && key == kClusterStream);
}

bool Watcher::relevant(const std::string& ns, const std::string& name) const {
    std::lock_guard guard(mutex_);
    if (!across_ && ns == config_.spec.source_namespace) {
        return true;
    }
    return targets_.count(ns) != 0 && source_names_.count(name) != 0;
}

StreamSpec Watcher::object_stream(const std::string& key, const std::string& ns,
                                  const std::string& rv, const std::string& name) {
    StreamSpec spec;
    spec.key = key;
    spec.namespace_name = ns;
    spec.resource_version = rv;
    spec.kind = config_.spec.kind;
    spec.relevant = [this](const std::string& n, const std::string& object) {
        return relevant(n, object);
    };
    spec.known = [this](const kube::Object& cm) { return held(cm); };
    if (!name.empty()) {
        spec.field_selector = "metadata.name=" + name;
    }
    return spec;
}

std::vector<StreamSpec> Watcher::namespace_streams(
    const std::string& ns, const std::function<std::string(const std::string&)>& rv_of) {
    const auto& names = config_.spec.selection.names;
    if (!config_.spec.kind.sensitive || names.empty()) {
        return {object_stream(ns, ns, rv_of(ns))};
    }
    // No OR in field selectors: a stream per name, in the source namespace and the targets.
    std::vector<StreamSpec> specs;
    for (const auto& name : names) {
        const auto key = ns + "/" + name;
        specs.push_back(object_stream(key, ns, rv_of(key), name));
    }
    return specs;
}

bool Watcher::held(const kube::Object& cm) const {
    // Across clusters only the targets' streams ask (a source stream has no `known`).
    return (across_ || cm.namespace_name != config_.spec.source_namespace) && copies_.holds(cm);
}

bool Watcher::leading() const {
    return !config_.write.write_gate || config_.write.write_gate().has_value();
}

bool Watcher::leading_or_skip() {
    if (leading()) {
        return true;
    }
    takeover_.skipped();
    return false;
}

void Watcher::beat() {
    beat_ = Clock::now().time_since_epoch().count();
}

std::chrono::steady_clock::time_point Watcher::last_beat() const {
    return Clock::time_point(Clock::duration(beat_.load()));
}

void Watcher::mark_synced() {
    stats_.last_sync_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
}

void Watcher::first_lists_done() {
    ready_ = true;
    // A standby, or a replica that led only midway, has a repair to do: that is its first pass.
    if (leading() && !takeover_.owed() && !first_pass_failed_) {
        mark_synced();
    }
}

void Watcher::report(const TargetOutcome& o, const std::string& source_rv) {
    beat();
    note_copy_state(o);
    if (!o.error.empty()) {
        retries_.failed(o.target, Clock::now(), retry_jitter());
    } else {
        retries_.settled(o.target);
    }
    WatchAction action;
    action.kind = config_.spec.kind;
    action.cluster = config_.cluster;
    action.other_cluster = config_.other_cluster;
    action.target = o.target;
    action.keys = changed_keys(o.plan);
    action.uid = o.plan.target_uid;
    action.verb = o.plan.delete_copy     ? WriteVerb::remove
                  : o.plan.target_exists ? WriteVerb::update
                                         : WriteVerb::create;
    action.conflicts_retried = o.conflicts_retried;
    const auto result = sync_result(o);
    if (!o.error.empty()) {
        action.action = WatchActionKind::error;
        action.detail = o.error;
        action.reason = OutOfStep::write_failed;
    } else if (o.plan.action == TargetAction::conflict) {
        const bool orphaned = o.plan.orphaned;
        action.action = orphaned ? WatchActionKind::orphaned : WatchActionKind::drift;
        std::lock_guard guard(mutex_);
        // Keyed by what is reported too: a drifted copy whose source is then deleted is, in
        // the same state, an orphan now (found by the soak, issue 17). And by the source's
        // version: each change of the source this copy does not get is said once, or the copy
        // falls behind its source without a word (issue 26 item 8).
        auto& seen = drift_seen_[action.target];
        const auto state = fmt::format("{} {} {}", to_string(action.action),
                                       o.plan.target_resource_version, source_rv);
        if (seen == state) {
            return;  // this state of the copy and of its source was reported already
        }
        seen = state;
        action.reason = orphaned             ? OutOfStep::orphaned
                        : o.plan.hand_edited ? OutOfStep::drift
                                             : OutOfStep::conflict;
        action.detail = source_rv.empty() ? o.plan.message
                                          : fmt::format("{}; source {} at resourceVersion {}",
                                                        o.plan.message, o.source.str(), source_rv);
    } else if (o.plan.action != TargetAction::create && o.plan.action != TargetAction::update) {
        return;  // in step, or a plan error (an immutable or too big copy): nothing written
    } else if (!o.applied) {
        return;
    } else {
        action.action = result == SyncResult::created     ? WatchActionKind::created
                        : result == SyncResult::recreated ? WatchActionKind::recreated
                        : result == SyncResult::deleted   ? WatchActionKind::deleted
                                                          : WatchActionKind::updated;
    }
    on_action_(action);
}

std::shared_ptr<const KeyHashes> Watcher::digests_of(const kube::Object& source) {
    std::lock_guard guard(digests_mutex_);
    auto& [rv, digests] = digests_[source.name];
    if (!digests || rv != source.resource_version || source.resource_version.empty()) {
        rv = source.resource_version;
        digests = std::make_shared<const KeyHashes>(value_digests(source));
    }
    return digests;
}

bool Watcher::handle_target(const std::string& ns, const std::string& name,
                            const std::optional<kube::Object>& copy) {
    const auto it = sources_.find(name);
    if (it == sources_.end()) {
        return true;
    }
    if (!leading_or_skip()) {
        return true;  // a standby: the leader acts on it
    }
    TargetOutcome o{it->second.ref(), {ns, name}, {}, ""};
    o.kind = config_.spec.kind;
    SourceReads reads;
    try {
        plan_and_apply(it->second, copy, digests_of(it->second).get(), reads, o);
    } catch (const std::exception& e) {
        o.error = e.what();
    }
    report(o, it->second.resource_version);
    return o.error.empty();
}

namespace {
// A read of a copy this slow (its cluster coming back: the request retried) kept the loop from
// its events long enough for the source to have changed: it is read again before the write.
constexpr auto kSlowRead = std::chrono::seconds(1);
}  // namespace

bool Watcher::sync_sources(const std::vector<std::string>& names,
                           const std::set<std::string>& namespaces, bool fresh) {
    if (!leading_or_skip()) {
        return true;
    }
    std::vector<const kube::Object*> sources;
    std::vector<std::shared_ptr<const KeyHashes>> digests;  // hashed once, not per copy
    for (const auto& name : names) {
        if (const auto it = sources_.find(name); it != sources_.end()) {
            sources.push_back(&it->second);
            digests.push_back(digests_of(it->second));
        }
    }
    const std::vector<std::string> list(namespaces.begin(), namespaces.end());
    std::atomic<bool> failed{false};
    SourceReads reads;  // a sensitive kind's values, read when a copy needs them
    // One pool for every (source, namespace) pair: a burst of changed sources keeps every
    // worker busy to the end instead of waiting for each source's slowest write. Meanwhile the
    // echoes of these writes queue up: those whose answer came back are made small.
    const auto compact = [this] {
        queue_.compact([this](const kube::Object& cm) { return held(cm); },
                       [this](const std::string& stream) { return !source_stream(stream); });
    };
    parallel_for(
        sources.size() * list.size(), config_.run.concurrency,
        [&](std::size_t i) {
            const auto& source = *sources[i / list.size()];
            const auto& ns = list[i % list.size()];
            const auto* source_digests = digests[i / list.size()].get();
            TargetOutcome o{source.ref(), {ns, source.name}, {}, ""};
            o.kind = config_.spec.kind;
            const kube::Object* from = &source;  // or a newer version, after a slow copy read
            SourceReads::Read again;
            try {
                // The cached copy saves a read; if it is stale, the write meets a 409 and the
                // writer reads the copy afresh.
                auto copy = fresh ? std::nullopt : copies_.find(ns, source.name);
                bool slow_read = false;
                if (!copy) {
                    const auto asked = Clock::now();
                    copy = api_.get(config_.spec.kind, ns, source.name);
                    copies_.learned(ns, source.name, copy);
                    slow_read = Clock::now() - asked >= kSlowRead;
                }
                from = latest_source(source, slow_read, reads, again);
                if (from != nullptr) {
                    plan_and_apply(*from, std::move(copy),
                                   from == &source ? source_digests : nullptr, reads, o);
                }
            } catch (const std::exception& e) {
                o.error = e.what();
            }
            if (!o.error.empty()) {
                failed = true;
            }
            report(o, (from != nullptr ? from : &source)->resource_version);
        },
        compact);
    // What the pass read again becomes the held version: a pass for it if some copies were
    // written from the older one, and the queued events it is past are skipped.
    for (auto& [name, read] : reads.read_again()) {
        adopt_source(name, *read, Clock::now());
    }
    if (!failed) {
        mark_synced();
    }
    return !failed;
}

void Watcher::orphan(const std::string& name, const std::string& ns) {
    if (!leading_or_skip()) {
        return;  // the leader reports (or prunes) it; a new leader's repair finds it
    }
    const kube::ObjectRef from{config_.spec.source_namespace, name};
    TargetOutcome o{from, {ns, name}, {}, ""};
    o.kind = config_.spec.kind;
    try {
        const auto copy = api_.get(config_.spec.kind, ns, name);
        if (!copy) {
            return;
        }
        const auto& cluster = config_.write.source_cluster;
        o.plan = plan_orphan(*copy, from, config_.spec.prune, config_.write.force, cluster);
        const Replanner replan = [&](const std::optional<kube::Object>& current) {
            return current ? plan_orphan(*current, from, config_.spec.prune, config_.write.force,
                                         cluster)
                           : TargetPlan{};
        };
        apply_outcome(api_, replan, o, config_.write);
    } catch (const std::exception& e) {
        o.error = e.what();
    }
    report(o, "");
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
        {
            std::lock_guard guard(digests_mutex_);
            digests_.erase(name);
        }
        schedule_.forget(name);
        news_.forget(name);
        versions_checked_.erase(name);
        copies_.forget_name(name);
        retries_.forget_name(name);
        log_(fmt::format("source {}{}/{} is gone", across_ ? config_.source_cluster + "/" : "",
                         config_.spec.source_namespace, name));
        std::set<std::string> targets;
        {
            std::lock_guard guard(mutex_);
            source_names_.erase(name);
            targets = targets_;
            // What the copies are now is what orphan() reports of each.
            std::erase_if(out_of_step_, [&](const auto& e) { return e.first.name == name; });
        }
        for (const auto& ns : targets) {
            orphan(name, ns);
        }
        return;
    }
    auto cm = *event.object;
    cm.raw.clear();
    if (cm.kind.sensitive) {
        cm = sealed(std::move(cm));  // values are read again when a copy needs them
    }
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

void Watcher::handle(StreamEvent& event) {
    if (!event.resource_version.empty()) {
        stream_rvs_[event.stream] = event.resource_version;
    }
    if (event.kind == StreamEvent::Kind::relisted) {
        const bool ok = handle_relist(event);
        if (first_lists_.erase(event.stream) != 0) {
            first_pass_failed_ = first_pass_failed_ || !ok;
            if (first_lists_.empty()) {
                first_lists_done();
            }
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
    if (from_source(event.stream, e.namespace_name)) {
        if (caught_up(e)) {
            confirm_gone(e);
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
    std::optional<kube::Object> copy;
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
    if (copy && source_moved_on(*copy)) {
        read_source_now(e.name, event.received);
    }
    if (!schedule_.pending(e.name)) {
        handle_target(e.namespace_name, e.name, copy);
    }
}

}  // namespace cmsync
