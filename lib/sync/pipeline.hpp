#pragma once

#include <string>
#include <vector>

#include "kube/api_client.hpp"
#include "plan/outcome.hpp"
#include "plan/sync_spec.hpp"
#include "sync/run_options.hpp"
#include "sync/writer.hpp"

namespace cmsync {

/// A target cluster that failed as a whole before its targets were known (its target selector
/// could not be listed): its named targets carry the error too.
struct ClusterFailure {
    std::string cluster;
    std::string error;
};

/// What one spec's run did.
struct SpecRun {
    std::vector<TargetOutcome> outcomes;
    bool no_sources = false;  ///< the selection matched nothing
    std::vector<ClusterFailure> failed_clusters;
};

/// One cluster of a run: how reports name it (empty: the only cluster, nothing names it) and
/// its client, a connection of its own.
struct ClusterClient {
    std::string name;
    kube::ApiClient* api = nullptr;
};

/// One rule of diff or sync: reads the sources of `spec`, resolves its targets and plans every
/// target. With `write` (sync), each plan is applied as soon as it is made and only what a
/// report prints is kept; without (diff), nothing is written. A run that sends no writes (diff,
/// --dry-run=client) turns a planned create in a missing namespace into that target's error,
/// as the server's answer would. Throws what keeps the rule from running (its source namespace
/// forbidden, a named source missing).
SpecRun run_spec(kube::ApiClient& api, const SyncSpec& spec, const RunOptions& run,
                 const WriteOptions* write);

/// run_spec across clusters: the sources read once from `source`'s cluster, then each target
/// cluster on its own and at the same time, through its own client. A target cluster that
/// fails (unreachable, forbidden) fails its own targets only; the source's cluster failing
/// throws as above. Clusters are the same when their names are (rules bind one name to one
/// context): only there is the source namespace never a target, and copies record another
/// cluster's source with its name (sync-from-cluster).
SpecRun run_spec(const ClusterClient& source, const std::vector<ClusterClient>& targets,
                 const SyncSpec& spec, const RunOptions& run, const WriteOptions* write);

}  // namespace cmsync
