#pragma once

#include <string>
#include <string_view>

#include "controller/metrics.hpp"

namespace cmsync::controller {

/// Every metric the controller exposes, registered in one place; callers only call methods.
/// Thread-safe. Label values the caller passes are taken as they are (no cardinality limit:
/// rules, clusters and verbs are few). `cluster`: the cluster of the copies (or streams) as
/// reports name it when a rule names clusters; empty otherwise, which Prometheus reads as no
/// label at all, so the series of a watch that names no cluster are those before clusters.
class ControllerMetrics {
  public:
    /// Registers the cmsync_ families in `registry` (which must outlive this) and sets
    /// cmsync_build_info{version} to 1.
    ControllerMetrics(Registry& registry, const std::string& version);

    /// A ConfigMap write: verb create|update|delete, result success|conflict|error.
    void count_write(std::string_view verb, std::string_view result, std::string_view cluster);
    /// A copy not written because it is not ours (cmsync_conflicts_total).
    void count_conflict(std::string_view cluster);
    /// A copy whose managed keys someone else edited, kept as they are (cmsync_drift_total).
    void count_drift(std::string_view cluster);
    /// A copy whose source or rule is gone (cmsync_orphans_total).
    void count_orphan(std::string_view cluster);
    /// How many copies cmsync manages now in `cluster`.
    void set_copies_managed(std::string_view cluster, double copies);
    /// A watch stream re-opened (ended, dropped or failed).
    void count_watch_restart(std::string_view cluster);
    /// A full re-list after 410 Gone.
    void count_relist(std::string_view cluster);
    /// One API request attempt: its HTTP method, status (0: no answer) and duration. Fits
    /// http::ClientOptions::observe.
    void observe_api_request(const std::string& method, long status, double seconds);
    /// A rule (its name, or SOURCE_NS/NAME) was fully synced in `cluster` at `unix_seconds`.
    void mark_synced(const std::string& rule, std::string_view cluster, double unix_seconds);
    /// Whether this process holds the Lease `lease` (NS/NAME) now.
    void set_leader(const std::string& lease, bool leader);
    /// An Event: result posted|dropped|failed.
    void count_event(std::string_view result);

  private:
    Family<Counter>& writes_;
    Family<Counter>& conflicts_;
    Family<Counter>& drift_;
    Family<Counter>& orphans_;
    Family<Gauge>& copies_;
    Family<Counter>& watch_restarts_;
    Family<Counter>& relists_;
    Family<Histogram>& api_latency_;
    Family<Gauge>& last_sync_;
    Family<Gauge>& leader_;
    Family<Gauge>& build_info_;
    Family<Counter>& events_;
};

}  // namespace cmsync::controller
