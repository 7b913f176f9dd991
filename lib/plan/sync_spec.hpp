#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "kube/kind.hpp"

namespace cmsync {

/// Which source objects: names, a label selector, or all; exactly one is set.
struct Selection {
    std::vector<std::string> names;
    std::string label_selector;
    bool all = false;
};

/// A cluster a rule reads from or writes to: a kubeconfig context or a cluster Secret (Cluster
/// API or Argo CD format, in the namespace of the current context: in the cluster, the
/// service account's), and the name reports, logs and the ownership record give it (a rules
/// file's `clusters[].name`; on the command line the context's name). All empty: the current
/// context, the one cluster of a rule naming none.
struct ClusterRef {
    std::string name;
    std::string context;
    std::string secret{};  ///< set instead of `context`: the Secret describing the cluster
    bool current() const { return context.empty() && secret.empty(); }
    /// `context "C"` or `Secret "S"`: where the cluster is found, for messages.
    std::string source() const {
        return secret.empty() ? "context \"" + context + "\"" : "Secret \"" + secret + "\"";
    }
    bool operator==(const ClusterRef&) const = default;
};

/// What to sync, as a rule says it (a rules file's rule, the positional form, and next a rule
/// object's spec): never how a run goes (RunOptions, WriteOptions).
struct SyncSpec {
    kube::Kind kind = kube::kConfigMap;
    ClusterRef source_cluster;  ///< the current context unless named
    std::string source_namespace;
    Selection selection;
    std::vector<std::string> target_namespaces;
    /// Where the targets are, each cluster on its own; none: the current context.
    std::vector<ClusterRef> target_clusters;
    std::string target_selector;                   ///< label selector for more target namespaces
    std::vector<std::string> exclude_namespaces;   ///< never targets (rules files)
    std::optional<std::vector<std::string>> keys;  ///< nothing: every key of the source
    bool prune = false;  ///< watch: copies of a deleted source lose their managed keys
    /// Consent: when set, no namespace but these may be a target (a SyncRule's grants).
    std::optional<std::vector<std::string>> granted_namespaces;
};

/// Whether `ns` may be one of `spec`'s targets: not its source namespace (when the targets are
/// in the source's cluster: `same_cluster`), not excluded, and granted when grants are asked for.
inline bool may_target(const SyncSpec& spec, const std::string& ns, bool same_cluster = true) {
    const auto has = [&](const std::vector<std::string>& list) {
        return std::find(list.begin(), list.end(), ns) != list.end();
    };
    return (!same_cluster || ns != spec.source_namespace) && !has(spec.exclude_namespaces) &&
           (!spec.granted_namespaces || has(*spec.granted_namespaces));
}

/// The clusters `spec` writes to: its target clusters, or the current context alone.
inline std::vector<ClusterRef> target_clusters(const SyncSpec& spec) {
    return spec.target_clusters.empty() ? std::vector<ClusterRef>{ClusterRef{}}
                                        : spec.target_clusters;
}

/// Whether `spec` names a cluster at all (else it runs in the current context alone, as before
/// clusters existed, and nothing it prints or writes names a cluster).
inline bool names_clusters(const SyncSpec& spec) {
    return !spec.source_cluster.current() ||
           std::any_of(spec.target_clusters.begin(), spec.target_clusters.end(),
                       [](const ClusterRef& c) { return !c.current(); });
}

}  // namespace cmsync
