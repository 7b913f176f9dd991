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
          {"verb", "result", "cluster"})),
      conflicts_(registry.counter("cmsync_conflicts_total",
                                  "Copies left alone because another owner holds the target.",
                                  {"cluster"})),
      drift_(registry.counter("cmsync_drift_total",
                              "Copies whose managed keys were edited by someone else: kept, "
                              "not overwritten (counted again for each source change they "
                              "miss).",
                              {"cluster"})),
      orphans_(registry.counter("cmsync_orphans_total",
                                "Copies found whose source or rule no longer exists.",
                                {"cluster"})),
      copies_(registry.gauge("cmsync_copies_managed", "Copies (ConfigMaps, Secrets) managed now.",
                             {"cluster"})),
      watch_restarts_(registry.counter("cmsync_watch_restarts_total",
                                       "Watch streams re-opened after they ended or failed.",
                                       {"cluster"})),
      relists_(registry.counter("cmsync_relists_total",
                                "Full re-lists after a watch's resourceVersion expired (410).",
                                {"cluster"})),
      api_latency_(registry.histogram(
          "cmsync_api_request_duration_seconds",
          "Kubernetes API request latency per attempt by HTTP method and status code "
          "(<error>: no answer); watch streams excluded.",
          {"verb", "code"})),
      last_sync_(registry.gauge("cmsync_last_sync_timestamp_seconds",
                                "Unix time of the last complete sync of each rule.",
                                {"rule", "cluster"})),
      leader_(registry.gauge("cmsync_leader_is_leader",
                             "1 while this process holds the leader Lease, else 0.", {"lease"})),
      build_info_(registry.gauge("cmsync_build_info",
                                 "Always 1; the version label names the running build.",
                                 {"version"})),
      events_(registry.counter("cmsync_events_total",
                               "Kubernetes Events by result (posted, dropped, failed).",
                               {"result"})) {
    // Known label values start at 0, so rate() sees the first increment (the local cluster's:
    // another cluster's start with its first).
    for (const auto verb : kVerbs) {
        for (const auto result : kResults) {
            writes_.with({std::string(verb), std::string(result), ""});
        }
    }
    for (auto* family : {&conflicts_, &drift_, &orphans_, &watch_restarts_, &relists_}) {
        family->with({""});
    }
    copies_.with({""});
    for (const auto result : kEventResults) {
        events_.with({std::string(result)});
    }
    build_info_.with({version}).set(1);
}

void ControllerMetrics::count_write(std::string_view verb, std::string_view result,
                                    std::string_view cluster) {
    writes_.with({std::string(verb), std::string(result), std::string(cluster)}).inc();
}

void ControllerMetrics::count_conflict(std::string_view cluster) {
    conflicts_.with({std::string(cluster)}).inc();
}

void ControllerMetrics::count_drift(std::string_view cluster) {
    drift_.with({std::string(cluster)}).inc();
}

void ControllerMetrics::count_orphan(std::string_view cluster) {
    orphans_.with({std::string(cluster)}).inc();
}

void ControllerMetrics::set_copies_managed(std::string_view cluster, double copies) {
    copies_.with({std::string(cluster)}).set(copies);
}

void ControllerMetrics::count_watch_restart(std::string_view cluster) {
    watch_restarts_.with({std::string(cluster)}).inc();
}

void ControllerMetrics::count_relist(std::string_view cluster) {
    relists_.with({std::string(cluster)}).inc();
}

void ControllerMetrics::observe_api_request(const std::string& method, long status,
                                            double seconds) {
    api_latency_.with({method, status == 0 ? "<error>" : std::to_string(status)}).observe(seconds);
}

void ControllerMetrics::mark_synced(const std::string& rule, std::string_view cluster,
                                    double unix_seconds) {
    last_sync_.with({rule, std::string(cluster)}).set(unix_seconds);
}

void ControllerMetrics::set_leader(const std::string& lease, bool leader) {
    leader_.with({lease}).set(leader ? 1 : 0);
}

void ControllerMetrics::count_event(std::string_view result) {
    events_.with({std::string(result)}).inc();
}

}  // namespace cmsync::controller
