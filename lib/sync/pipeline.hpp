#pragma once

#include <vector>

#include "kube/api_client.hpp"
#include "plan/outcome.hpp"
#include "plan/sync_spec.hpp"
#include "sync/run_options.hpp"
#include "sync/writer.hpp"

namespace cmsync {

/// What one spec's run did.
struct SpecRun {
    std::vector<TargetOutcome> outcomes;
    bool no_sources = false;  ///< the selection matched nothing
};

/// One rule of diff or sync: reads the sources of `spec`, resolves its targets and plans every
/// target. With `write` (sync), each plan is applied as soon as it is made and only what a
/// report prints is kept; without (diff), nothing is written. A run that sends no writes (diff,
/// --dry-run=client) turns a planned create in a missing namespace into that target's error,
/// as the server's answer would. Throws what keeps the rule from running (its source namespace
/// forbidden, a named source missing).
SpecRun run_spec(kube::ApiClient& api, const SyncSpec& spec, const RunOptions& run,
                 const WriteOptions* write);

}  // namespace cmsync
