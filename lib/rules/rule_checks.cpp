// Checks across the rules of every file, and what makes two rules the same.
#include <fmt/format.h>

#include <map>
#include <string_view>
#include <tuple>

#include "kube/object.hpp"
#include "rules/sync_config.hpp"

namespace cmsync {

std::string rule_fingerprint(const Rule& rule) {
    const auto& r = rule.spec;
    const auto list = [](const std::vector<std::string>& items) {
        return fmt::format("[{}]", fmt::join(items, ","));
    };
    std::vector<std::string> clusters;
    for (const auto& c : r.target_clusters) {
        clusters.push_back(c.name + "=" + c.context);
    }
    return fmt::format("{}|{}|{}={}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", rule.name, r.kind.name,
                       r.source_cluster.name, r.source_cluster.context, r.source_namespace,
                       list(r.selection.names), r.selection.label_selector, r.selection.all,
                       list(clusters), list(r.target_namespaces), r.target_selector,
                       list(r.exclude_namespaces), r.keys ? list(*r.keys) : "*", r.prune,
                       r.granted_namespaces ? list(*r.granted_namespaces) : "*");
}

std::vector<std::string> check_rules(const std::vector<Rule>& rules) {
    std::vector<std::string> errors;
    std::map<std::string, const Rule*> by_name;
    for (const auto& rule : rules) {
        const auto [it, fresh] = by_name.emplace(rule.name, &rule);
        if (!fresh) {
            errors.push_back(fmt::format("{}: rule name \"{}\" is already used at {}", rule.where,
                                         rule.name, it->second->where));
        }
    }
    // One cluster name, one context, and the other way round, in every file.
    std::map<std::string, std::pair<std::string, const Rule*>> contexts;  // name -> context
    std::map<std::string, std::pair<std::string, const Rule*>> names;     // context -> name
    const auto one_to_one = [&](auto& map, const std::string& key, const std::string& value,
                                const Rule& rule, const char* what, const char* other) {
        const auto [it, fresh] = map.emplace(key, std::pair{value, &rule});
        if (!fresh && it->second.first != value) {
            errors.push_back(
                fmt::format("{}: {} \"{}\" is {} \"{}\" here and {} \"{}\" for rule \"{}\" at {}",
                            rule.where, what, key, other, value, other, it->second.first,
                            it->second.second->name, it->second.second->where));
            it->second.first = value;  // said once per pair
        }
    };
    for (const auto& rule : rules) {
        auto refs = rule.spec.target_clusters;
        refs.push_back(rule.spec.source_cluster);
        for (const auto& ref : refs) {
            if (!ref.current()) {
                one_to_one(contexts, ref.name, ref.context, rule, "cluster", "context");
                one_to_one(names, ref.context, ref.name, rule, "context", "cluster");
            }
        }
    }
    // Targets known before any request: named sources into listed namespaces, by kind and
    // cluster (a context; empty: the current one).
    using Target = std::tuple<std::string_view, std::string, kube::ObjectRef>;
    std::map<Target, const Rule*> managed;
    const auto source_text = [](const SyncSpec& s, const std::string& name) {
        return (s.source_cluster.current() ? "" : s.source_cluster.name + "/") +
               s.source_namespace + "/" + name;
    };
    for (const auto& rule : rules) {
        const auto& r = rule.spec;
        for (const auto& cluster : cmsync::target_clusters(r)) {
            const auto where = cluster.current() ? std::string() : cluster.name + "/";
            for (const auto& ns : r.target_namespaces) {
                if (!may_target(r, ns, cluster == r.source_cluster)) {
                    continue;
                }
                for (const auto& name : r.selection.names) {
                    const auto [it, fresh] = managed.emplace(
                        Target{r.kind.name, cluster.context, kube::ObjectRef{ns, name}}, &rule);
                    const auto& other = *it->second;
                    if (!fresh && (other.spec.source_cluster.context != r.source_cluster.context ||
                                   other.spec.source_namespace != r.source_namespace)) {
                        errors.push_back(fmt::format(
                            "{}: rules \"{}\" and \"{}\" would both manage {} {}{}/{}, from {} "
                            "and {}",
                            rule.where, other.name, rule.name, r.kind.name, where, ns, name,
                            source_text(other.spec, name), source_text(r, name)));
                    }
                }
            }
        }
    }
    return errors;
}

}  // namespace cmsync
