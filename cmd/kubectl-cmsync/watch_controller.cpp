#include "watch_controller.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "util/validate.hpp"
#include "version.hpp"

namespace cmsync::cli {

namespace {

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

controller::WatchControllerConfig controller_config(const ControllerOptions& o) {
    controller::WatchControllerConfig config;
    if (o.leader_elect) {
        auto& c = config.election.emplace();
        c.namespace_name = o.lease_namespace;
        c.name = o.lease_name;
        c.lease_duration = duration_flag("--leader-elect-lease-duration", o.lease_duration);
        c.renew_deadline = duration_flag("--leader-elect-renew-deadline", o.renew_deadline);
        c.retry_period = duration_flag("--leader-elect-retry-period", o.retry_period);
    }
    config.metrics_bind_address = o.metrics_bind_address;
    config.record_events = o.record_events;
    config.version = kVersion;
    return config;
}

void attach(controller::WatchController& controller, Connection& connection) {
    controller.attach(
        [&connection](std::chrono::milliseconds budget) -> kube::ApiClient& {
            return connection.api_with_budget(budget);
        },
        connection.config().namespace_name);
}

}  // namespace cmsync::cli
