#include "rule_runs.hpp"

#include <fmt/format.h>

#include "http/transport.hpp"
#include "process_log.hpp"

namespace cmsync::cli {

std::vector<RuleRun> run_rules(ClusterConnections& clusters, const std::vector<Rule>& rules,
                               const RunOptions& run, const WriteOptions* write) {
    std::vector<RuleRun> runs;
    for (const auto& rule : rules) {
        RuleRun r;
        r.rule = &rule;
        try {
            const auto& spec = rule.spec;
            const ClusterClient source{spec.source_cluster.name,
                                       &clusters.api(spec.source_cluster)};
            std::vector<ClusterClient> targets;
            for (const auto& cluster : target_clusters(spec)) {
                targets.push_back({cluster.name, &clusters.api(cluster)});
            }
            auto done = run_spec(source, targets, spec, run, write);
            r.no_sources = done.no_sources;
            r.outcomes = std::move(done.outcomes);
            r.failed_clusters = std::move(done.failed_clusters);
        } catch (const http::TransportError&) {
            throw;
        } catch (const Error& e) {
            if (rule.name.empty()) {
                throw;  // the positional form: the command could not run
            }
            r.error = e.what();
        }
        for (auto& o : r.outcomes) {
            o.rule = rule.name;
        }
        runs.push_back(std::move(r));
    }
    return runs;
}

std::string cluster_failure_lines(const std::vector<RuleRun>& runs) {
    std::string out;
    for (const auto& r : runs) {
        for (const auto& failure : r.failed_clusters) {
            out += fmt::format("{}{}: error: {}\n", r.rule->name.empty() ? "" : r.rule->name + "/",
                               failure.cluster, failure.error);
        }
    }
    return out;
}

void warn_empty_selections(const std::vector<RuleRun>& runs) {
    for (const auto& r : runs) {
        if (r.no_sources) {
            process_log().warning(
                fmt::format("{}no {} in namespace \"{}\" matches the selection",
                            r.rule->name.empty() ? "" : "rule " + r.rule->name + ": ",
                            r.rule->spec.kind.name, r.rule->spec.source_namespace));
        }
    }
}

}  // namespace cmsync::cli
