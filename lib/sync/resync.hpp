#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kube/api_client.hpp"
#include "plan/resync_outcome.hpp"
#include "sync/writer.hpp"

namespace cmsync {

struct ResyncRequest {
    kube::Kind kind = kube::kConfigMap;   ///< of the copies (and their sources)
    std::vector<std::string> namespaces;  ///< empty: all namespaces (-A)
    bool prune = false;
    bool force = false;
    DryRunMode dry_run = DryRunMode::none;
    int chunk_size = 500;
    int concurrency = 16;
    /// Runs after each page is handled and freed (the command gives memory back; tests also
    /// expire the continue token there).
    std::function<void()> after_page;
    /// The client of a cluster copies record their source in (sync-from-cluster, issue 30);
    /// throws Error when it cannot be reached by that name. Unset: such copies are errors.
    std::function<kube::ApiClient&(const std::string& cluster)> cluster_api;
};

/// Finds every copy (label cmsync.io/managed=true, paged), reads each source once, and
/// re-applies the merge with the copy's recorded key set; orphans are reported or, with prune,
/// pruned. A source recorded in another cluster is read there (request.cluster_api). Pages are
/// handled as they arrive and dropped: memory follows the page size, not the number of copies.
/// `on_outcome` gets each copy's result as soon as it is known.
ResyncSummary resync(kube::ApiClient& api, const ResyncRequest& request,
                     const std::function<void(const ResyncOutcome&)>& on_outcome);

}  // namespace cmsync
