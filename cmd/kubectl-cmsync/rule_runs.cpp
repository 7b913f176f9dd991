#include "rule_runs.hpp"

#include <fmt/format.h>

#include "http/transport.hpp"
#include "process_log.hpp"

namespace cmsync::cli {

std::vector<RuleRun> run_rules(kube::ApiClient& api, const std::vector<Rule>& rules,
                               const RunOptions& run, const WriteOptions* write) {
    std::vector<RuleRun> runs;
    for (const auto& rule : rules) {
        RuleRun r;
        r.rule = &rule;
        try {
            auto done = run_spec(api, rule.spec, run, write);
            r.no_sources = done.no_sources;
            r.outcomes = std::move(done.outcomes);
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
#include "process_log.hpp"
        }
    }
}

}  // namespace cmsync::cli
