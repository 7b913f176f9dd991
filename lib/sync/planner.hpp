#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kube/api_client.hpp"
#include "plan/outcome.hpp"
#include "plan/sync_spec.hpp"
#include "sync/run_options.hpp"

namespace cmsync {

/// The source objects selected, read once (lists in pages of `chunk_size`). A named source
/// that does not exist is an Error, unless `missing` is given: then its name is added there
/// (`watch` waits for it).
std::vector<kube::Object> read_sources(kube::ApiClient& api, const SyncSpec& spec, int chunk_size,
                                       std::vector<std::string>* missing = nullptr);

/// The target namespaces: those named plus those matching the target selector, without the
/// source namespace (in the source's cluster: `same_cluster`) and the excluded ones, sorted and
/// unique.
std::vector<std::string> resolve_targets(kube::ApiClient& api, const SyncSpec& spec, int chunk_size,
                                         bool same_cluster = true);

/// The current copies in `ns` of `sources` (by name; absent ones are missing). A few names
/// are read with GETs, more with one paged list of the namespace.
std::vector<std::optional<kube::Object>> read_targets(kube::ApiClient& api, const std::string& ns,
                                                      const std::vector<kube::Object>& sources,
                                                      int chunk_size);

/// Called on a worker thread with each planned outcome and its source (sync applies it there).
using OutcomeHandler = std::function<void(TargetOutcome&, const kube::Object& source)>;

/// The clusters of a plan_all when clusters are named: the target cluster's name (outcomes
/// carry it), the source's, and the source's as copies record it (empty: the same cluster).
struct PlanClusters {
    std::string target;
    std::string source;
    std::string recorded_source;
};

/// Plans every (source, target namespace) pair; namespaces are handled concurrently
/// (run.concurrency), and `handle`, when given, runs right after each plan. A failed read
/// becomes that target's error; other targets are unaffected. `api` is the targets' cluster's.
std::vector<TargetOutcome> plan_all(kube::ApiClient& api, const SyncSpec& spec,
                                    const RunOptions& run, const std::vector<kube::Object>& sources,
                                    const std::vector<std::string>& targets,
                                    const OutcomeHandler& handle = {},
                                    const PlanClusters& clusters = {});

/// For runs that send no write (diff, --dry-run=client): a planned create in a target
/// namespace that does not exist becomes that target's error, as the server's 404 would make
/// it in a real run. Asks with a GET of the namespace, or, when that is forbidden (namespace
/// Roles), with a server-side dry-run create.
void check_target_namespaces(kube::ApiClient& api, std::vector<TargetOutcome>& outcomes,
                             int concurrency);

}  // namespace cmsync
