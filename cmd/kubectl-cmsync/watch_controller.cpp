#include "watch_controller.hpp"

#include <fmt/format.h>

#include "controller/action_signals.hpp"
#include "error.hpp"
#include "util/validate.hpp"
#include "version.hpp"

namespace cmsync::cli {

namespace {

// A watcher whose loop has not gone round for this long is stuck: /healthz fails, and the
// kubelet restarts the container. Writes beat too, so a long pass does not count as stuck.
constexpr std::chrono::seconds kStuckAfter{60};
// Lease requests give up after this, so a stalled connection cannot hold a round past the
// renew deadline; Event requests after kEventBudget (best effort).
constexpr std::chrono::seconds kEventBudget{2};

std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& text) {
    const auto d = parse_duration(text);
    if (!d || d->count() <= 0) {
        throw UsageError(fmt::format("invalid {} \"{}\": a duration such as 15s", flag, text));
    }
    return *d;
}

}  // namespace

void add_controller_options(CLI::App& watch, ControllerOptions& o) {
    const auto* group = "In the cluster";
    watch
        .add_flag("--leader-elect", o.leader_elect,
                  "Write only while holding a coordination.k8s.io Lease (run 2+ replicas)")
        ->group(group);
    watch
        .add_option("--leader-elect-namespace", o.lease_namespace,
                    "Namespace of the Lease (default: the pod's own, else the context's)")
        ->group(group);
    watch.add_option("--leader-elect-name", o.lease_name, "Name of the Lease")->group(group);
    watch
        .add_option("--leader-elect-lease-duration", o.lease_duration,
                    "How long standbys wait on an unrenewed Lease")
        ->group(group);
    watch
        .add_option("--leader-elect-renew-deadline", o.renew_deadline,
                    "How long the leader tries to renew before it stops writing and exits")
        ->group(group);
    watch.add_option("--leader-elect-retry-period", o.retry_period, "Time between Lease rounds")
        ->group(group);
    watch
        .add_option("--metrics-bind-address", o.metrics_bind_address,
                    "Serve /healthz, /readyz and /metrics here, e.g. :8080 (default: off)")
        ->group(group);
    watch
        .add_flag("--record-events", o.record_events,
                  "Post events.k8s.io Events on copies for drift, conflicts, orphans, errors")
        ->group(group);
}

WatchController::WatchController(const ControllerOptions& options, LogSink log)
    : options_(options), log_(std::move(log)) {
    if (options_.leader_elect) {
        auto& c = election_config_;
        c.name = options_.lease_name;
        c.lease_duration = duration_flag("--leader-elect-lease-duration", options_.lease_duration);
        c.renew_deadline = duration_flag("--leader-elect-renew-deadline", options_.renew_deadline);
        c.retry_period = duration_flag("--leader-elect-retry-period", options_.retry_period);
        if (c.lease_duration <= c.renew_deadline || c.renew_deadline * 10 <= c.retry_period * 12) {
            throw UsageError(
                "--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline, "
                "which must be greater than 1.2 x --leader-elect-retry-period");
        }
        c.identity = controller::leader_identity();
    }
    if (!options_.metrics_bind_address.empty()) {
        controller::parse_bind_address(options_.metrics_bind_address);  // a usage error now
        registry_ = std::make_unique<controller::Registry>();
        metrics_ = std::make_unique<controller::ControllerMetrics>(*registry_, kVersion);
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

void WatchController::attach(Connection& connection) {
    if (options_.leader_elect) {
        auto& c = election_config_;
        c.namespace_name = options_.lease_namespace.empty() ? connection.config().namespace_name
                                                            : options_.lease_namespace;
        lease_id_ = c.namespace_name + "/" + c.name;
        auto* metrics = metrics_.get();
        election_ = std::make_unique<controller::LeaderElection>(
            connection.api_with_budget(c.renew_deadline / 2), c, log_,
            [metrics, id = lease_id_](bool leading) {
                if (metrics != nullptr) {
                    metrics->set_leader(id, leading);
                }
            });
        if (metrics_) {
            metrics_->set_leader(lease_id_, false);
        }
    }
    if (options_.record_events) {
        controller::EventRecorderOptions o;
        o.reporting_instance = election_ ? election_->identity() : controller::leader_identity();
        o.log = log_;
        if (auto* metrics = metrics_.get()) {
            o.count = [metrics](std::string_view result) { metrics->count_event(result); };
        }
        events_ = std::make_unique<controller::EventRecorder>(
            connection.api_with_budget(kEventBudget), std::move(o));
    }
}

std::function<bool()> WatchController::write_gate() {
    if (!election_) {
        return nullptr;
    }
    return [e = election_.get()] { return e->may_write(); };
}

void WatchController::on_action(const std::string& rule, const WatchAction& action) {
    if (!metrics_ && !events_) {
        return;
    }
    auto s = controller::signals_of(action, rule);
    if (metrics_) {
        for (const auto& [verb, result] : s.writes) {
            metrics_->count_write(verb, result);
        }
        if (s.drift) {
            metrics_->count_drift();
        }
        if (s.conflict) {
            metrics_->count_conflict();
        }
        if (s.orphan) {
            metrics_->count_orphan();
        }
    }
    if (events_ && s.event) {
        events_->record(std::move(*s.event));
    }
}

void WatchController::start(WatcherVisitor watchers) {
    watchers_ = std::move(watchers);
    if (registry_) {
        server_ = std::make_unique<controller::HealthServer>(
            options_.metrics_bind_address,
            controller::HealthCallbacks{[this] { return alive(); }, [this] { return ready(); },
                                        [this] {
                                            collect();
                                            return registry_->render();
                                        }});
        log_(fmt::format("serving /healthz, /readyz and /metrics on {} (port {})",
                         options_.metrics_bind_address, server_->port()));
    }
    if (election_) {
        election_->start();
    }
}

bool WatchController::alive() const {
    bool ok = true;
    const auto now = std::chrono::steady_clock::now();
    watchers_([&](const std::string&, const Watcher* w, bool) {
        const auto beat = w != nullptr ? w->last_beat() : std::chrono::steady_clock::time_point{};
        if (beat.time_since_epoch().count() != 0 && now - beat > kStuckAfter) {
            ok = false;
        }
    });
    return ok;
}

bool WatchController::ready() const {
    bool ok = true;
    watchers_([&](const std::string&, const Watcher* w, bool failed) {
        // A rule that cannot start is logged and retried; it does not hold the others back.
        if (!failed && (w == nullptr || !w->ready())) {
            ok = false;
        }
    });
    return ok;
}

void WatchController::collect() {
    std::lock_guard guard(collect_mutex_);
    double copies = 0;
    watchers_([&](const std::string& rule, const Watcher* w, bool) {
        if (w == nullptr) {
            return;
        }
        const auto& stats = w->stats();
        copies += static_cast<double>(w->copies_managed());
        auto& [restarts, relists] = counted_[rule];
        const auto now_restarts = stats.watch_restarts.load();
        const auto now_relists = stats.relists.load();
        // A rule started again (changed) counts from zero.
        for (auto i = now_restarts < restarts ? 0 : restarts; i < now_restarts; ++i) {
            metrics_->count_watch_restart();
        }
        for (auto i = now_relists < relists ? 0 : relists; i < now_relists; ++i) {
            metrics_->count_relist();
        }
        restarts = now_restarts;
        relists = now_relists;
        if (const auto ms = stats.last_sync_unix_ms.load(); ms > 0) {
            metrics_->mark_synced(rule, static_cast<double>(ms) / 1000.0);
        }
    });
    metrics_->set_copies_managed(copies);
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

}  // namespace cmsync::cli
