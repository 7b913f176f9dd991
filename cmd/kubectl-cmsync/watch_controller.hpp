#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "connection.hpp"
#include "controller/watch_controller.hpp"

namespace cmsync::cli {

/// `watch` flags for running it as a controller in the cluster; none set: the CLI as before.
struct ControllerOptions {
    bool leader_elect = false;
    std::string lease_namespace;  ///< empty: the pod's own (the config's namespace)
    std::string lease_name = "kubectl-cmsync";
    std::string lease_duration = "15s";
    std::string renew_deadline = "10s";
    std::string retry_period = "2s";
    std::string metrics_bind_address;
    bool record_events = false;
};

void add_controller_options(CLI::App& watch, ControllerOptions& options);

/// The controller's configuration from its flags; throws UsageError for a duration that is not
/// one (the controller checks how they relate).
controller::WatchControllerConfig controller_config(const ControllerOptions& options);

/// Attaches `controller` to `connection`: the Lease in the config's namespace unless
/// --leader-elect-namespace names one.
void attach(controller::WatchController& controller, Connection& connection);

}  // namespace cmsync::cli
