#include "cluster_connections.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "error.hpp"
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
        throw UsageError("clusters are kubeconfig contexts, and no kubeconfig was found");
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
            open(ref.context);
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
    const auto config = kube::load_kubeconfig(global_.connection, read_environment(), disk_files());
    if (!config) {
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

kube::ApiClient& ClusterConnections::api(const ClusterRef& cluster) {
    std::lock_guard lock(mutex_);
    return open(cluster.context).api();
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
}

}  // namespace cmsync::cli
