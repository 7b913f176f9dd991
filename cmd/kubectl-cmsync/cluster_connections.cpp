#include "cluster_connections.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "error.hpp"
#include "kube/cluster_secret.hpp"
#include "kube/config_loader.hpp"
#include "rules/cluster_binding.hpp"
#include "rules_files.hpp"

namespace cmsync::cli {

ClusterConnections::ClusterConnections(const GlobalOptions& global, std::vector<Rule>& rules,
                                       ConnectionHooks hooks)
    : global_(global), hooks_(std::move(hooks)) {
    bind(rules);
}

void ClusterConnections::bind(std::vector<Rule>& rules) {
    std::lock_guard lock(mutex_);
    const bool named = std::any_of(rules.begin(), rules.end(),
                                   [](const Rule& r) { return names_clusters(r.spec); });
    if (!named) {
        open("");
        return;
    }
    load_contexts();
    if (!contexts_) {
        throw UsageError(
            "clusters are kubeconfig contexts or cluster Secrets, and there is neither a "
            "kubeconfig nor the in-cluster service account");
    }
    bind_clusters(rules, *contexts_, current_);
    // Now that the current context is known, two rules may be seen to share a copy.
    if (auto errors = check_rules(rules); !errors.empty()) {
        throw RulesError(std::move(errors));
    }
    open("");
    for (const auto& rule : rules) {
        auto refs = rule.spec.target_clusters;
        refs.push_back(rule.spec.source_cluster);
        for (const auto& ref : refs) {
            if (ref.secret.empty()) {
                open(ref.context);  // a cluster Secret is read when it is first used (api)
            }
        }
    }
}

ClusterConnections::ClusterConnections(const GlobalOptions& global) : global_(global) {
    std::lock_guard lock(mutex_);
    open("");
}

void ClusterConnections::load_contexts() {
    if (contexts_) {
        return;
    }
    const auto env = read_environment();
    const auto config = kube::load_kubeconfig(global_.connection, env, disk_files());
    if (!config) {
        if (!env.service_host.empty()) {
            // In the cluster: the one context is the cluster cmsync runs in.
            contexts_.emplace(std::vector<std::string>{kInClusterContext});
            current_ = kInClusterContext;
        }
        return;
    }
    contexts_.emplace();
    for (const auto& [name, entry] : config->contexts) {
        contexts_->push_back(name);
    }
    current_ =
        global_.connection.context.empty() ? config->current_context : global_.connection.context;
}

kube::ApiClient& ClusterConnections::context_api(const std::string& cluster) {
    std::lock_guard lock(mutex_);
    load_contexts();
    if (!contexts_ ||
        std::find(contexts_->begin(), contexts_->end(), cluster) == contexts_->end()) {
        throw Error(fmt::format(
            "source is in cluster \"{}\" and the kubeconfig has no context of that name (a "
            "cluster is reached by the context named as it)",
            cluster));
    }
    return open(cluster).api();
}

Connection& ClusterConnections::open(const std::string& context) {
    const auto key = context == current_ ? std::string() : context;
    auto& slot = by_context_[key];
    if (!slot) {
        if (key.empty()) {
            slot = std::make_unique<Connection>(global_, hooks_.cancel, hooks_.observe);
        } else {
            GlobalOptions options = global_;
            options.connection = kube::ConnectionFlags{};
            options.connection.kubeconfig = global_.connection.kubeconfig;
            options.connection.context = key;
            options.connection.request_timeout = global_.connection.request_timeout;
            slot = std::make_unique<Connection>(options, hooks_.cancel, hooks_.observe);
        }
    }
    return *slot;
}

Connection& ClusterConnections::open_secret(const std::string& secret) {
    auto& slot = by_secret_[secret];
    if (!slot) {
        auto& current = open("");
        auto& hub = current.api();
        const auto ns = current.config().namespace_name;
        // Read by name only (a Role with resourceNames suffices), now and after each 401.
        kube::CredentialReload read = [&hub, ns, secret] {
            const auto object = hub.get(kube::kSecret, ns, secret);
            if (!object) {
                throw Error(fmt::format("cluster Secret {}/{} not found", ns, secret));
            }
            return kube::cluster_from_secret(*object);
        };
        auto config = read();
        slot = std::make_unique<Connection>(global_, std::move(config), std::move(read),
                                            hooks_.cancel, hooks_.observe);
    }
    return *slot;
}

kube::ApiClient& ClusterConnections::api(const ClusterRef& cluster) {
    std::lock_guard lock(mutex_);
    return (cluster.secret.empty() ? open(cluster.context) : open_secret(cluster.secret)).api();
}

Connection& ClusterConnections::local() {
    std::lock_guard lock(mutex_);
    return open("");
}

void ClusterConnections::wake_streams() {
    std::lock_guard lock(mutex_);
    for (auto& [context, connection] : by_context_) {
        connection->wake_streams();
    }
    for (auto& [secret, connection] : by_secret_) {
        connection->wake_streams();
    }
}

}  // namespace cmsync::cli
