#pragma once

#include "kube/api_client.hpp"
#include "plan/sync_spec.hpp"

namespace cmsync {

/// Where `watch` gets the client of each cluster a rule names: one connection per cluster, so
/// one cluster's failures, slowness and backoff stay its own. The command's ClusterConnections
/// (kubeconfig contexts, in-cluster Secrets) implements it; watchers never read a kubeconfig.
class ClusterClients {
  public:
    virtual ~ClusterClients() = default;
    /// The client of `cluster` (ClusterRef{}: the process's own, the current context), made on
    /// first use and kept; thread-safe. Throws Error when it cannot be made.
    virtual kube::ApiClient& api(const ClusterRef& cluster) = 0;
};

/// Every cluster is the one of `api`: rules that name no cluster (and tests).
class OneCluster : public ClusterClients {
  public:
    explicit OneCluster(kube::ApiClient& api) : api_(api) {}
    kube::ApiClient& api(const ClusterRef&) override { return api_; }

  private:
    kube::ApiClient& api_;
};

}  // namespace cmsync
