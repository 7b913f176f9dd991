#include "controller/watch_controller.hpp"

#include <fmt/format.h>

#include "controller/action_signals.hpp"
#include "error.hpp"

namespace cmsync::controller {

namespace {

// Event requests give up after this: they are best effort.
constexpr std::chrono::seconds kEventBudget{2};

}  // namespace

WatchController::WatchController(WatchControllerConfig config, LogSink log)
    : config_(std::move(config)), log_(std::move(log)) {
    if (auto& c = config_.election) {
        if (c->lease_duration <= c->renew_deadline ||
            c->renew_deadline * 10 <= c->retry_period * 12) {
            throw UsageError(
                "--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline, "
                "which must be greater than 1.2 x --leader-elect-retry-period");
        }
        if (c->identity.empty()) {
            c->identity = leader_identity();
        }
    }
    if (!config_.metrics_bind_address.empty()) {
        parse_bind_address(config_.metrics_bind_address);  // a usage error now
        registry_ = std::make_unique<Registry>();
        metrics_ = std::make_unique<ControllerMetrics>(*registry_, config_.version);
    }
}

WatchController::~WatchController() {
    stop();
}

http::RequestObserver WatchController::request_observer() {
    if (!metrics_) {
        return nullptr;
    }
    return [m = metrics_.get()](const std::string& method, long status, double seconds) {
        m->observe_api_request(method, status, seconds);
    };
}

void WatchController::attach(const ApiWithBudget& api, const std::string& default_namespace) {
    if (auto& c = config_.election) {
        if (c->namespace_name.empty()) {
            c->namespace_name = default_namespace;
        }
        lease_id_ = c->namespace_name + "/" + c->name;
        auto* metrics = metrics_.get();
        election_ = std::make_unique<LeaderElection>(api(c->renew_deadline / 2), *c, log_,
                                                     [metrics, id = lease_id_](bool leading) {
                                                         if (metrics != nullptr) {
                                                             metrics->set_leader(id, leading);
                                                         }
                                                     });
        if (metrics_) {
            metrics_->set_leader(lease_id_, false);
        }
    }
    if (config_.record_events) {
        EventRecorderOptions o;
        o.reporting_instance = election_ ? election_->identity() : leader_identity();
        o.log = log_;
        if (auto* metrics = metrics_.get()) {
            o.count = [metrics](std::string_view result) { metrics->count_event(result); };
        }
        events_ = std::make_unique<EventRecorder>(api(kEventBudget), std::move(o));
    }
}

WriteGate WatchController::write_gate() {
    if (!election_) {
        return nullptr;
    }
    return [e = election_.get()] { return e->write_until(); };
}

void WatchController::on_action(const std::string& rule, const WatchAction& action) {
    if (!metrics_ && !events_) {
        return;
    }
    auto s = signals_of(action, rule);
    if (metrics_) {
        const auto& cluster = action.cluster;
        for (const auto& [verb, result] : s.writes) {
            metrics_->count_write(verb, result, cluster);
        }
        if (s.drift) {
            metrics_->count_drift(cluster);
        }
        if (s.conflict) {
            metrics_->count_conflict(cluster);
        }
        if (s.orphan) {
            metrics_->count_orphan(cluster);
        }
    }
    // An Event names its copy in this cluster's API: one in another cluster has none here.
    if (events_ && s.event && !action.other_cluster) {
        events_->record(std::move(*s.event));
    }
}

void WatchController::observe(StatusSource watchers) {
    watchers_ = std::move(watchers);
}

void WatchController::start() {
    if (registry_) {
        server_ = std::make_unique<HealthServer>(
            config_.metrics_bind_address,
            HealthCallbacks{[this] { return alive(); }, [this] { return ready(); },
                            [this] { return metrics(); }, [this] { return not_ready_detail(); }});
        log_(fmt::format("serving /healthz, /readyz and /metrics on {} (port {})",
                         config_.metrics_bind_address, server_->port()));
    }
    if (election_) {
        election_->start();
    }
}

std::vector<WatcherStatus> WatchController::statuses() const {
    return watchers_ ? watchers_() : std::vector<WatcherStatus>{};
}

bool WatchController::alive() const {
    return watchers_alive(statuses(), std::chrono::steady_clock::now());
}

bool WatchController::ready() const {
    return watchers_ready(statuses());
}

std::string WatchController::not_ready_detail() const {
    std::string out;
    for (const auto& line : unreachable_clusters(statuses())) {
        out += line + "\n";
    }
    return out;
}

std::string WatchController::metrics() {
    if (!registry_) {
        return {};
    }
    collect();
    return registry_->render();
}

void WatchController::collect() {
    std::lock_guard guard(collect_mutex_);
    std::map<std::string, double> copies{{"", 0.0}};  // by cluster; the local one always
    for (const auto& cluster : copies_counted_) {
        copies[cluster] = 0;  // a cluster no watcher runs for now has none managed
    }
    for (const auto& w : statuses()) {
        if (!w.running) {
            continue;
        }
        copies[w.cluster] += static_cast<double>(w.copies_managed);
        auto& [restarts, relists] = counted_[{w.rule, w.cluster}];
        // A rule started again (changed) counts from zero.
        for (auto i = w.watch_restarts < restarts ? 0 : restarts; i < w.watch_restarts; ++i) {
            metrics_->count_watch_restart(w.cluster);
        }
        for (auto i = w.relists < relists ? 0 : relists; i < w.relists; ++i) {
            metrics_->count_relist(w.cluster);
        }
        restarts = w.watch_restarts;
        relists = w.relists;
        if (w.last_sync_unix_ms > 0) {
            metrics_->mark_synced(w.rule, w.cluster,
                                  static_cast<double>(w.last_sync_unix_ms) / 1000.0);
        }
    }
    for (const auto& [cluster, count] : copies) {
        metrics_->set_copies_managed(cluster, count);
        copies_counted_.insert(cluster);
    }
    if (election_) {
        metrics_->set_leader(lease_id_, election_->may_write());
    }
}

bool WatchController::lost() const {
    return election_ && election_->lost();
}

void WatchController::stop() {
    if (election_) {
        election_->stop_and_release();
    }
    if (events_) {
        events_->stop();
    }
    if (server_) {
        server_->stop();
    }
}

}  // namespace cmsync::controller
