#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connection.hpp"
#include "controller/cluster_clients.hpp"
#include "global_options.hpp"
#include "rules/sync_config.hpp"

namespace cmsync::cli {

/// What every connection gets (watch): a cancel check and a request observer (metrics).
struct ConnectionHooks {
    http::CancelCheck cancel;
    http::RequestObserver observe;
};

/// The connections of diff, sync and watch: one per kubeconfig context or cluster Secret the rules
/// name, each with its own credentials, TLS settings and connection pool (one cluster's
/// failures stay its own). kubectl's connection flags (--server, --token, --as, ...) apply to
/// the current context (--context, or current-context) alone; another context is taken as
/// the kubeconfig says it. In the cluster (no kubeconfig) the current context is
/// kInClusterContext. A cluster Secret (Cluster API or Argo CD format) is read by name with
/// the current context's client, in its namespace (in the cluster, the service account's),
/// when its cluster is first used; its connection reads it again after a 401, so rotated
/// credentials are taken without a restart (kube::Credentials).
class ClusterConnections : public ClusterClients {
  public:
    /// Binds the rules' clusters to the kubeconfig (bind: an unknown context is a UsageError
    /// naming it) and opens a connection per context; no request is sent.
    ClusterConnections(const GlobalOptions& global, std::vector<Rule>& rules,
                       ConnectionHooks hooks = {});
    /// The current context only, until context_api asks for another (resync).
    explicit ClusterConnections(const GlobalOptions& global);
    /// Binds more rules (watch -f re-read its files; thread-safe): bind_clusters and
    /// check_rules when any names a cluster (throws UsageError, RulesError), and a connection
    /// per new context. No request is sent.
    void bind(std::vector<Rule>& rules);
    /// The client of `cluster` (ClusterRef{}: the current context). For a cluster Secret, the
    /// first call reads it (an Error naming the Secret when it is missing, unreadable or not a
    /// cluster's; the next call tries again). Thread-safe.
    kube::ApiClient& api(const ClusterRef& cluster) override;
    /// The current context's connection (leader election and Events stay in it).
    Connection& local();
    /// Has every connection's open streams poll their cancel checks now.
    void wake_streams();
    /// The client of the cluster copies record as `cluster`, reached by the context of that
    /// name (as the command line names clusters); an Error when the kubeconfig has none.
    /// Thread-safe.
    kube::ApiClient& context_api(const std::string& cluster);

  private:
    Connection& open(const std::string& context);        // under mutex_ once constructed
    Connection& open_secret(const std::string& secret);  // under mutex_
    /// The kubeconfig's contexts and the current one (loaded once).
    void load_contexts();

    const GlobalOptions& global_;
    ConnectionHooks hooks_;
    std::string current_;  ///< the current context's name, when there is a kubeconfig
    std::optional<std::vector<std::string>> contexts_;
    std::mutex mutex_;  ///< guards the contexts and connections
    std::map<std::string, std::unique_ptr<Connection>> by_context_;  ///< "": the current one
    std::map<std::string, std::unique_ptr<Connection>> by_secret_;
};

}  // namespace cmsync::cli
