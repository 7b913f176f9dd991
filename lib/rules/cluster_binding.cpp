#include "rules/cluster_binding.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "error.hpp"

namespace cmsync {

namespace {

// Where a rule's message starts: its position in a rules file, nothing on the command line.
std::string rule_where(const Rule& rule) {
    return rule.where.empty() ? std::string() : rule.where + ": ";
}

}  // namespace

std::string cluster_prefix(const ClusterRef& cluster) {
    return cluster.name.empty() ? std::string() : cluster.name + "/";
}

void bind_clusters(std::vector<Rule>& rules, const std::vector<std::string>& contexts,
                   const std::string& current_context) {
    const auto named_rule = [](const Rule& r) { return names_clusters(r.spec); };
    if (std::none_of(rules.begin(), rules.end(), named_rule)) {
        return;
    }
    // The current context's name: a named cluster of the same context lends it.
    std::string current_name = current_context;
    for (const auto& rule : rules) {
        auto refs = rule.spec.target_clusters;
        refs.push_back(rule.spec.source_cluster);
        for (const auto& ref : refs) {
            if (!ref.current() && ref.context == current_context) {
                current_name = ref.name;
            }
        }
    }
    const auto has_context = [&](const std::string& context) {
        return std::find(contexts.begin(), contexts.end(), context) != contexts.end();
    };
    // Every rule, those naming no cluster too: they run in the current context, which reports
    // then name, and a copy two rules would write is seen however each names its cluster.
    for (auto& rule : rules) {
        auto& spec = rule.spec;
        if (spec.target_clusters.empty()) {
            spec.target_clusters.push_back(ClusterRef{});
        }
        auto refs = std::vector<ClusterRef*>{&spec.source_cluster};
        for (auto& ref : spec.target_clusters) {
            refs.push_back(&ref);
        }
        for (auto* ref : refs) {
            if (ref->current()) {
                if (current_context.empty()) {
                    throw UsageError(fmt::format(
                        "{}clusters are kubeconfig contexts and no current context is set: "
                        "give --context or name every cluster",
                        rule_where(rule)));
                }
                *ref = ClusterRef{current_name, current_context};
            }
            if (ref->secret.empty() && !has_context(ref->context)) {
                throw UsageError(
                    fmt::format("{}unknown context \"{}\" (cluster \"{}\"): the kubeconfig has {}",
                                rule_where(rule), ref->context, ref->name,
                                contexts.empty() ? std::string("no contexts")
                                                 : fmt::format("{}", fmt::join(contexts, ", "))));
            }
        }
        // A cluster listed twice once the current context is known (current and its name).
        auto& targets = spec.target_clusters;
        for (auto it = targets.begin(); it != targets.end(); ++it) {
            if (std::find(targets.begin(), it, *it) != it) {
                throw UsageError(fmt::format("{}cluster \"{}\" ({}) is a target twice",
                                             rule_where(rule), it->name, it->source()));
            }
        }
        const bool same =
            std::find(targets.begin(), targets.end(), spec.source_cluster) != targets.end();
        const auto& names = spec.target_namespaces;
        if (same && std::find(names.begin(), names.end(), spec.source_namespace) != names.end()) {
            throw UsageError(
                fmt::format("{}target namespace \"{}\" is the source namespace (cluster \"{}\")",
                            rule_where(rule), spec.source_namespace, spec.source_cluster.name));
        }
    }
}

}  // namespace cmsync
