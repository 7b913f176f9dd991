#pragma once

#include <string>
#include <vector>

#include "rules/sync_config.hpp"

namespace cmsync {

/// Binds the clusters the rules name to the kubeconfig, before any request (pure: the caller
/// passes the kubeconfig's context names and the current context, --context or
/// current-context). When any rule names a cluster (names_clusters), every rule is bound: a
/// cluster left to the current context gets that context, named as a cluster of the rules with
/// the same context is named, else as the context; a context the kubeconfig lacks is a
/// UsageError naming it and its cluster; and once the current context is known, a target
/// namespace that is the source namespace in the source's own cluster is a UsageError. When no
/// rule names a cluster, nothing changes (they run in the current context, as before clusters
/// existed, and nothing names a cluster).
void bind_clusters(std::vector<Rule>& rules, const std::vector<std::string>& contexts,
                   const std::string& current_context);

/// "CLUSTER/" when `cluster` is named, else "": how reports and logs prefix NS/NAME.
std::string cluster_prefix(const ClusterRef& cluster);

}  // namespace cmsync
