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
        clusters.push_back(c.name + "=" + c.source());
    }
    return fmt::format("{}|{}|{}={}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", rule.name, r.kind.name,
                       r.source_cluster.name, r.source_cluster.source(), r.source_namespace,
                       list(r.selection.names), r.selection.label_selector, r.selection.all,
                       list(clusters), list(r.target_namespaces), r.target_selector,
                       list(r.exclude_namespaces), r.keys ? list(*r.keys) : "*", r.prune,
                       r.granted_namespaces ? list(*r.granted_namespaces) : "*");
}

RuleChecks::RuleChecks() = default;
RuleChecks::~RuleChecks() = default;

std::vector<std::string> RuleChecks::add(const Rule& rule, bool keep_when_wrong) {
    std::vector<std::string> errors;
    // What this rule adds, so that a refused rule can be taken out again.
    std::vector<Pairs::iterator> added_contexts, added_names;
    std::vector<std::map<Target, const Rule*>::iterator> added_targets;
    bool added_name = false;
    const auto [named, fresh_name] = by_name_.emplace(rule.name, &rule);
    if (!fresh_name) {
        errors.push_back(fmt::format("{}: rule name \"{}\" is already used at {}", rule.where,
                                     rule.name, named->second->where));
    } else {
        added_name = true;
    }
    // One cluster name, one context (or Secret), and the other way round, in every file. Keys
    // and values are as messages quote them: `cluster "N"`, `context "C"`, `Secret "S"`.
    const auto one_to_one = [&](Pairs& map, std::vector<Pairs::iterator>& added,
                                const std::string& key, const std::string& value) {
        const auto [it, fresh] = map.emplace(key, std::pair{value, &rule});
        if (fresh) {
            added.push_back(it);
        } else if (it->second.first != value) {
            errors.push_back(fmt::format("{}: {} is {} here and {} for rule \"{}\" at {}",
                                         rule.where, key, value, it->second.first,
                                         it->second.second->name, it->second.second->where));
            if (keep_when_wrong) {
                it->second.first = value;  // said once per pair
            }
        }
    };
    auto refs = rule.spec.target_clusters;
    refs.push_back(rule.spec.source_cluster);
    for (const auto& ref : refs) {
        if (!ref.current()) {
            const auto name = "cluster \"" + ref.name + "\"";
            one_to_one(contexts_, added_contexts, name, ref.source());
            one_to_one(names_, added_names, ref.source(), name);
        }
    }
    // Targets known before any request: named sources into listed namespaces, by kind and
    // cluster (a context; empty: the current one).
    const auto source_text = [](const SyncSpec& s, const std::string& name) {
        return (s.source_cluster.current() ? "" : s.source_cluster.name + "/") +
               s.source_namespace + "/" + name;
    };
    const auto& r = rule.spec;
    for (const auto& cluster : cmsync::target_clusters(r)) {
        const auto where = cluster.current() ? std::string() : cluster.name + "/";
        for (const auto& ns : r.target_namespaces) {
            if (!may_target(r, ns, cluster == r.source_cluster)) {
                continue;
            }
            for (const auto& name : r.selection.names) {
                const auto [it, fresh] = managed_.emplace(
                    Target{r.kind.name, cluster.source(), kube::ObjectRef{ns, name}}, &rule);
                if (fresh) {
                    added_targets.push_back(it);
                    continue;
                }
                const auto& other = *it->second;
                if (other.spec.source_cluster.source() != r.source_cluster.source() ||
                    other.spec.source_namespace != r.source_namespace) {
                    errors.push_back(fmt::format(
                        "{}: rules \"{}\" and \"{}\" would both manage {} {}{}/{}, from {} and {}",
                        rule.where, other.name, rule.name, r.kind.name, where, ns, name,
                        source_text(other.spec, name), source_text(r, name)));
                }
            }
        }
    }
    if (!errors.empty() && !keep_when_wrong) {
        if (added_name) {
            by_name_.erase(named);
        }
        for (auto it : added_contexts) {
            contexts_.erase(it);
        }
        for (auto it : added_names) {
            names_.erase(it);
        }
        for (auto it : added_targets) {
            managed_.erase(it);
        }
    }
    return errors;
}

std::vector<std::string> check_rules(const std::vector<Rule>& rules) {
    RuleChecks checks;
    std::vector<std::string> errors;
    for (const auto& rule : rules) {
        auto more = checks.add(rule, true);
        errors.insert(errors.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    return errors;
}

}  // namespace cmsync
