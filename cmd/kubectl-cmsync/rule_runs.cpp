#include "rule_runs.hpp"

#include <fmt/format.h>

#include "http/transport.hpp"
#include "process_log.hpp"
#include "sync/planner.hpp"

namespace cmsync::cli {

std::vector<RuleRun> run_rules(kube::ApiClient& api, const std::vector<Rule>& rules,
                               const std::function<std::vector<TargetOutcome>(
                                   const Rule&, const std::vector<kube::ConfigMap>&)>& run) {
    std::vector<RuleRun> runs;
    for (const auto& rule : rules) {
        RuleRun r;
        r.rule = &rule;
        try {
            const auto sources = read_sources(api, rule.request);
            r.no_sources = sources.empty();
            r.outcomes = run(rule, sources);
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

void warn_empty_selections(const std::vector<RuleRun>& runs) {
    for (const auto& r : runs) {
        if (r.no_sources) {
            process_log().warning(
                fmt::format("{}no ConfigMap in namespace \"{}\" matches the selection",
                            r.rule->name.empty() ? "" : "rule " + r.rule->name + ": ",
                            r.rule->request.source_namespace));
        }
    }
}

}  // namespace cmsync::cli
