#include "controller/rule_units.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cmsync {

std::vector<RuleUnit> rule_units(const Rule& rule) {
    const auto fingerprint = rule_fingerprint(rule);
    if (!names_clusters(rule.spec)) {
        return {RuleUnit{rule, ClusterRef{}, "", false, fingerprint}};
    }
    std::vector<RuleUnit> units;
    for (const auto& target : target_clusters(rule.spec)) {
        RuleUnit unit{rule, target, target.name, target.name != rule.spec.source_cluster.name,
                      fmt::format("{}\n@{}\t{}", fingerprint, target.name, target.context)};
        units.push_back(std::move(unit));
    }
    return units;
}

std::string unit_state_file(const std::string& base, const std::string& rule,
                            const std::string& cluster) {
    if (base.empty()) {
        return {};
    }
    auto path = base;
    if (!rule.empty()) {
        // A SyncRule's name is "NS/NAME": "NS.NAME" beside the file (neither part has a dot).
        auto suffix = rule;
        std::replace(suffix.begin(), suffix.end(), '/', '.');
        path += "." + suffix;
    }
    if (!cluster.empty()) {
        auto suffix = cluster;
        std::replace_if(
            suffix.begin(), suffix.end(),
            [](char c) {
                const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                   (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                return !plain;
            },
            '_');
        path += "." + suffix;
    }
    return path;
}

std::string unit_log_prefix(const std::string& rule, const std::string& cluster) {
    if (rule.empty()) {
        return cluster.empty() ? "" : fmt::format("cluster {}: ", cluster);
    }
    return cluster.empty() ? fmt::format("rule {}: ", rule)
                           : fmt::format("rule {}, cluster {}: ", rule, cluster);
}

}  // namespace cmsync
