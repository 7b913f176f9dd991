#pragma once

#include <string>
#include <vector>

#include "rules/sync_config.hpp"

namespace cmsync {

/// Binds the clusters the rules name to the kubeconfig, before any request (pure: the caller
/// passes the kubeconfig's context names and the current context, --context or
/// current-context). When any rule names a cluster (names_clusters), every rule is bound: a
/// cluster left to the current context gets that context, named as a cluster of the rules with
/// the same context is named, else as the context; a cluster Secret is taken as it is (read
/// when its cluster is opened); a context the kubeconfig lacks is a UsageError naming it and
/// its cluster; in the cluster (no kubeconfig) the caller passes the one context "in-cluster"
/// (kInClusterContext); and once the current context is known, a target
/// namespace that is the source namespace in the source's own cluster is a UsageError. When no
/// rule names a cluster, nothing changes (they run in the current context, as before clusters
/// existed, and nothing names a cluster).
/// The context name of the cluster cmsync runs in when it has no kubeconfig (in the cluster):
/// Argo CD's name for the cluster it runs in. A rules file may name it
/// (`{name: hub, context: in-cluster}`).
inline constexpr const char* kInClusterContext = "in-cluster";

void bind_clusters(std::vector<Rule>& rules, const std::vector<std::string>& contexts,
                   const std::string& current_context);

/// "CLUSTER/" when `cluster` is named, else "": how reports and logs prefix NS/NAME.
std::string cluster_prefix(const ClusterRef& cluster);

}  // namespace cmsync
