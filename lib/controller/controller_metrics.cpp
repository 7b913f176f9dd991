#include "controller/controller_metrics.hpp"

namespace cmsync::controller {

namespace {

constexpr std::string_view kVerbs[] = {"create", "update", "delete"};
constexpr std::string_view kResults[] = {"success", "conflict", "error"};
constexpr std::string_view kEventResults[] = {"posted", "dropped", "failed"};

}  // namespace

ControllerMetrics::ControllerMetrics(Registry& registry, const std::string& version)
    : writes_(registry.counter(
          "cmsync_writes_total",
          "Writes of copies (ConfigMaps, Secrets) by verb (create, update, delete) and result "
          "(success, conflict, error).",
          {"verb", "result"})),
      conflicts_(registry.counter("cmsync_conflicts_total",
                                  "Copies left alone because another owner holds the target.")),
      drift_(registry.counter("cmsync_drift_total",
                              "Copies whose managed keys were edited by someone else: kept, "
                              "not overwritten (counted again for each source change they "
                              "miss).")),
      orphans_(registry.counter("cmsync_orphans_total",
                                "Copies found whose source or rule no longer exists.")),
      copies_(registry.gauge("cmsync_copies_managed", "Copies (ConfigMaps, Secrets) managed now.")),
      watch_restarts_(registry.counter("cmsync_watch_restarts_total",
                                       "Watch streams re-opened after they ended or failed.")),
      relists_(registry.counter("cmsync_relists_total",
                                "Full re-lists after a watch's resourceVersion expired (410).")),
      api_latency_(registry.histogram(
          "cmsync_api_request_duration_seconds",
          "Kubernetes API request latency per attempt by HTTP method and status code "
          "(<error>: no answer); watch streams excluded.",
          {"verb", "code"})),
      last_sync_(registry.gauge("cmsync_last_sync_timestamp_seconds",
                                "Unix time of the last complete sync of each rule.", {"rule"})),
      leader_(registry.gauge("cmsync_leader_is_leader",
                             "1 while this process holds the leader Lease, else 0.", {"lease"})),
      build_info_(registry.gauge("cmsync_build_info",
                                 "Always 1; the version label names the running build.",
                                 {"version"})),
      events_(registry.counter("cmsync_events_total",
                               "Kubernetes Events by result (posted, dropped, failed).",
                               {"result"})) {
    // Known label values start at 0, so rate() sees the first increment.
    for (const auto verb : kVerbs) {
        for (const auto result : kResults) {
            writes_.with({std::string(verb), std::string(result)});
        }
    }
    for (const auto result : kEventResults) {
        events_.with({std::string(result)});
    }
    build_info_.with({version}).set(1);
}

void ControllerMetrics::count_write(std::string_view verb, std::string_view result) {
    writes_.with({std::string(verb), std::string(result)}).inc();
}

void ControllerMetrics::count_conflict() {
    conflicts_.with({}).inc();
}

void ControllerMetrics::count_drift() {
    drift_.with({}).inc();
}

void ControllerMetrics::count_orphan() {
    orphans_.with({}).inc();
}

void ControllerMetrics::set_copies_managed(double copies) {
    copies_.with({}).set(copies);
}

void ControllerMetrics::count_watch_restart() {
    watch_restarts_.with({}).inc();
}

void ControllerMetrics::count_relist() {
    relists_.with({}).inc();
}

void ControllerMetrics::observe_api_request(const std::string& method, long status,
                                            double seconds) {
    api_latency_.with({method, status == 0 ? "<error>" : std::to_string(status)}).observe(seconds);
}

void ControllerMetrics::mark_synced(const std::string& rule, double unix_seconds) {
    last_sync_.with({rule}).set(unix_seconds);
}

void ControllerMetrics::set_leader(const std::string& lease, bool leader) {
    leader_.with({lease}).set(leader ? 1 : 0);
}

void ControllerMetrics::count_event(std::string_view result) {
    events_.with({std::string(result)}).inc();
}

}  // namespace cmsync::controller
