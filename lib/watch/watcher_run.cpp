// Watcher: start-up (scope, state file, streams) and the event loop.
#include "watch/watcher.hpp"

#include <fmt/format.h>

#include "http/transport.hpp"
#include "plan/ownership.hpp"
#include "util/parallel.hpp"
#include "watch/sealed.hpp"

namespace cmsync {

bool Watcher::use_cluster_scope(std::size_t target_count) {
    const bool automatic = config_.scope == WatchScope::automatic;
    if (config_.shared_stream != nullptr && automatic && !config_.spec.kind.sensitive &&
        config_.state_file.empty() && config_.shared_stream->allowed()) {
        on_shared_stream_ = true;
        return true;
    }
    // A sensitive kind is never read cluster-wide unless the user asks for it.
    if (config_.scope == WatchScope::namespaces || (automatic && config_.spec.kind.sensitive) ||
        (automatic && config_.spec.target_selector.empty() &&
         target_count <= config_.cluster_threshold)) {
        return false;
    }
    // Namespace Roles are enough unless cluster scope is asked for (SPEC.md, Security): ask
    // the server before opening a watch that would only ever get 403.
    std::string why;
    try {
        const std::string resource(config_.spec.kind.resource);
        if (api_.access_allowed("list", resource, "") &&
            api_.access_allowed("watch", resource, "")) {
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
        throw Error(fmt::format(
            "--watch-scope cluster: not allowed to list and watch {} in all namespaces (check "
            "RBAC, or use --watch-scope namespaces)",
            config_.spec.kind.resource));
    }
    log_(fmt::format("cluster-wide list and watch of {}: {}; one watch per namespace instead",
                     config_.spec.kind.resource, why));
    return false;
}

void Watcher::save_state() {
    if (config_.state_file.empty()) {
        return;
    }
    WatchState state;
    state.scope = cluster_scope_ ? "cluster" : "namespaces";
    state.resource_versions = stream_rvs_;
    for (const auto& [name, cm] : sources_) {
        state.source_digests[name] = source_fingerprint(cm);
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
    const auto& src = config_.spec.source_namespace;
    // ConfigMap streams without a position list first; ready() waits for those lists.
    const auto start = [this](StreamSpec spec) {
        if (spec.resource_version.empty()) {
            first_lists_.insert(spec.key);
        }
        streams_->start(std::move(spec));
    };
    if (across_) {
        start_source_streams(rv_of);
    }
    if (on_shared_stream_) {
        first_lists_.insert(kClusterStream);
        // Without a selector its targets are the namespaces it names: only they (and the
        // source's) can hold anything relevant.
        std::optional<std::vector<std::string>> namespaces;
        if (config_.spec.target_selector.empty()) {
            namespaces = config_.spec.target_namespaces;
            namespaces->push_back(src);
        }
        shared_id_ = config_.shared_stream->subscribe(
            {&queue_, kClusterStream,
             [this](const std::string& ns, const std::string& name) { return relevant(ns, name); },
             [this](const kube::Object& cm) { return held(cm); }, std::move(namespaces)});
    } else if (cluster_scope_) {
        // Filtered by the server, so a big cluster's unrelated ConfigMaps and their churn
        // never reach the watcher.
        auto spec = object_stream(kClusterStream, "", rv_of(kClusterStream));
        if (const auto& names = config_.spec.selection.names; names.size() == 1) {
            spec.field_selector = "metadata.name=" + names.front();  // sources and copies alike
        } else {
            // No OR in field selectors: the sources come from their namespace's stream (by
            // label for a selector rule), the copies from one of managed ConfigMaps.
            split_cluster_ = true;
            spec.label_selector = std::string(kManagedLabel) + "=true";
            if (!across_) {
                auto source = object_stream(src, src, rv_of(src));
                source.label_selector = config_.spec.selection.label_selector;
                start(std::move(source));
            }
        }
        start(std::move(spec));
    } else {
        std::vector<std::string> namespaces;
        if (!across_) {
            namespaces.push_back(src);  // the source first, then the targets
        }
        namespaces.insert(namespaces.end(), targets.begin(), targets.end());
        for (const auto& ns : namespaces) {
            for (auto& spec : namespace_streams(ns, rv_of)) {
                start(std::move(spec));
            }
        }
    }
    if (!config_.spec.target_selector.empty()) {
        StreamSpec spec;
        spec.key = kNamespacesStream;
        spec.namespaces = true;
        spec.label_selector = config_.spec.target_selector;
        spec.resource_version = rv_of(kNamespacesStream);
        streams_->start(std::move(spec));
    }
}

void Watcher::check_target_access(const std::vector<std::string>& targets) {
    const std::string resource(config_.spec.kind.resource);
    std::vector<char> allowed(targets.size(), 1);
    std::vector<std::exception_ptr> errors(targets.size());
    parallel_for(targets.size(), config_.run.concurrency, [&](std::size_t i) {
        try {
            allowed[i] = api_.access_allowed("list", resource, targets[i]) &&
                         api_.access_allowed("watch", resource, targets[i]);
        } catch (...) {
            errors[i] = std::current_exception();
        }
    });
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (errors[i]) {
            std::rethrow_exception(errors[i]);
        }
        if (allowed[i] == 0) {
            throw ApiError(403, "Forbidden",
                           fmt::format("cluster {}: not allowed to list and watch {} in namespace "
                                       "\"{}\" (check RBAC)",
                                       config_.cluster, resource, targets[i]));
        }
    }
}

void Watcher::start_source_streams(const std::function<std::string(const std::string&)>& rv_of) {
    const auto& src = config_.spec.source_namespace;
    source_streams_ =
        std::make_unique<StreamRunner>(source_api_, queue_, config_.run.chunk_size, log_, stats_);
    const auto keyed = [&](const std::string& key) { return rv_of(kSourceKey + key); };
    for (auto spec : namespace_streams(src, keyed)) {
        spec.key = kSourceKey + spec.key;
        spec.relevant = nullptr;  // the source namespace alone: every object counts
        spec.known = nullptr;     // never a copy: its values are always read
        if (spec.resource_version.empty()) {
            first_lists_.insert(spec.key);
        }
        source_streams_->start(std::move(spec));
    }
}

std::vector<std::string> Watcher::unreachable() const {
    std::vector<std::string> out;
    const auto add = [&](const StreamRunner* runner, const std::string& cluster) {
        if (runner == nullptr || cluster.empty()) {
            return;
        }
        if (auto failing = runner->unreachable()) {
            out.push_back(fmt::format("cluster {}: {}", cluster, *failing));
        }
    };
    add(source_streams_.get(), config_.source_cluster);
    add(streams_.get(), config_.cluster);
    return out;
}

std::optional<WatchState> Watcher::resumed_state(std::size_t target_count) {
    std::optional<WatchState> resumed;
    if (!config_.state_file.empty()) {
        if (const auto text = read_file_if_exists(config_.state_file)) {
            resumed = parse_watch_state(*text, config_.state_file);
        }
    }
    cluster_scope_ = use_cluster_scope(target_count);
    if (resumed && resumed->scope != (cluster_scope_ ? "cluster" : "namespaces")) {
        log_("state file was written for another watch scope: starting afresh");
        resumed.reset();
    }
    return resumed;
}

void Watcher::read_initial_sources(const std::vector<std::string>& targets,
                                   const std::optional<WatchState>& resumed) {
    const auto& spec = config_.spec;
    // The sources are read first, so that every target's first pass knows them. A named source
    // that does not exist is followed like the others: the source stream sees it created.
    std::vector<std::string> missing;
    for (auto& cm : read_sources(source_api_, spec, config_.run.chunk_size, &missing)) {
        const auto name = cm.name;
        if (resumed) {
            const auto it = resumed->source_digests.find(name);
            if (it == resumed->source_digests.end() || it->second != source_fingerprint(cm)) {
                schedule_.changed(name, Clock::now(), false);  // changed while nobody watched
            }
        }
        cm.raw.clear();
        if (cm.kind.sensitive) {
            cm = sealed(std::move(cm));  // values are read again when a copy needs them
        }
        std::lock_guard guard(mutex_);
        source_names_.insert(name);
        sources_.emplace(name, std::move(cm));
    }
    for (const auto& name : missing) {
        log_(fmt::format("source {} \"{}\" not found in namespace \"{}\": waiting for it",
                         spec.kind.name, name, spec.source_namespace));
    }
    if (!resumed) {
        return;
    }
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

void Watcher::run(const std::atomic<bool>& stop) {
    begin();
    while (!stop) {
        turn(until_due());
    }
    end();
}

void Watcher::begin() {
    const auto& spec = config_.spec;
    // Across clusters, what cannot be reached is named: readiness and the log say which.
    const auto in_cluster = [](const std::string& cluster, const auto& f) {
        try {
            return f();
        } catch (const http::TransportError& e) {
            if (cluster.empty()) {
                throw;
            }
            throw http::TransportError(fmt::format("cluster {}: {}", cluster, e.what()),
                                       e.transient());
        }
    };
    const auto targets = in_cluster(config_.cluster, [&] {
        return resolve_targets(api_, spec, config_.run.chunk_size, !across_);
    });
    const auto resumed = in_cluster(config_.cluster, [&] { return resumed_state(targets.size()); });
    if (!config_.cluster.empty() && !cluster_scope_) {
        in_cluster(config_.cluster, [&] {
            check_target_access(targets);
            return 0;
        });
    }
    {
        std::lock_guard guard(mutex_);
        targets_.insert(targets.begin(), targets.end());
    }
    in_cluster(config_.source_cluster, [&] {
        read_initial_sources(targets, resumed);
        return 0;
    });
    log_(fmt::format("watching {} source {}(s) in {}{} for {} target namespace(s){}, {} scope",
                     sources_.size(), spec.kind.name, across_ ? config_.source_cluster + "/" : "",
                     spec.source_namespace, targets.size(),
                     config_.cluster.empty() ? "" : " in " + config_.cluster,
                     on_shared_stream_ ? "cluster (shared)"
                     : cluster_scope_  ? "cluster"
                                       : "namespace"));
    streams_ = std::make_unique<StreamRunner>(api_, queue_, config_.run.chunk_size, log_, stats_);
    start_streams(resumed);
    if (first_lists_.empty()) {
        first_lists_done();
    }
    last_resync_ = Clock::now();
    was_leading_ = leading();
    if (!was_leading_) {
        log_("standby: watching, not writing until this replica leads");
    }
}

void Watcher::end() {
    unsubscribe();
    streams_->stop_all();
    if (source_streams_) {
        source_streams_->stop_all();
    }
    save_state();
}

void Watcher::unsubscribe() {
    if (shared_id_) {
        config_.shared_stream->unsubscribe(*std::exchange(shared_id_, std::nullopt));
    }
}

void Watcher::on_event(std::function<void()> wake) {
    queue_.on_push(std::move(wake));
}

std::chrono::milliseconds Watcher::until_due() const {
    constexpr std::chrono::milliseconds kTick{200};
    const auto due = schedule_.next_due();
    if (!due) {
        return kTick;
    }
    return std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*due - Clock::now()),
                      std::chrono::milliseconds(0), kTick);
}

void Watcher::turn(std::chrono::milliseconds wait) {
    beat();
    const bool now_leading = leading();
    if (now_leading != was_leading_) {
        was_leading_ = now_leading;
        log_(now_leading ? "leading: writing from now on" : "not leading: writes stop");
    }
    if (takeover_.take_repair(now_leading, first_lists_.empty())) {
        log_("leading: repairing every copy from its source");
        resync_all();  // what happened while standing by was seen but not written
        last_resync_ = Clock::now();
    }
    // Each event is let go of once handled: a burst of thousands is not held to its end.
    auto events = queue_.pop_all(std::min(wait, until_due()));
    const bool any = !events.empty();
    for (; !events.empty(); events.pop_front()) {
        handle(events.front());
    }
    pass_due_sources();
    retry_due_copies();
    streams_->kick();
    if (source_streams_) {
        source_streams_->kick();
    }
    if (config_.resync_period.count() > 0 && Clock::now() - last_resync_ >= config_.resync_period) {
        resync_all();
        last_resync_ = Clock::now();
    }
    if (any) {
        save_state();
    }
}

void Watcher::pass_due_sources() {
    const auto due = schedule_.take_due(Clock::now());
    if (due.empty()) {
        return;
    }
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

void Watcher::retry_due_copies() {
    if (!leading()) {
        retries_.clear();  // a new leader's repair reads every copy
        return;
    }
    for (const auto& [name, namespaces] : retries_.take_due(Clock::now())) {
        if (sources_.count(name) == 0 || schedule_.pending(name)) {
            // Gone (its delete handled the copies), or a pass of its own is coming.
            for (const auto& ns : namespaces) {
                retries_.settled({ns, name});
            }
            continue;
        }
        log_(fmt::format("trying again {} cop{} of {} that failed", namespaces.size(),
                         namespaces.size() == 1 ? "y" : "ies", name));
        sync_sources({name}, namespaces, true);  // read afresh: the failure may have left them
    }
}

}  // namespace cmsync
