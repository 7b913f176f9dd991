#include "cmd_diff.hpp"

#include <iostream>
#include <memory>

#include "cluster_connections.hpp"
#include "output.hpp"
#include "report/diff_report.hpp"
#include "report/report_json.hpp"
#include "rule_runs.hpp"
#include "rules_files.hpp"
#include "sync/planner.hpp"
#include "target_options.hpp"

namespace cmsync::cli {

namespace {

struct DiffOptions {
    TargetOptions targets;
    std::string output = "text";
};

}  // namespace

std::function<int()> setup_diff(CLI::App& app, GlobalOptions& global) {
    auto options = std::make_shared<DiffOptions>();
    auto* sub = app.add_subcommand("diff", "Show what sync would change, per target (dry run)");
    sub->footer(R"(Examples:
  # What would syncing app-config from ns-a to ns-b and ns-c change?
  kubectl cmsync diff ns-a ns-b ns-c --name app-config

  # Only the config.yaml key, as JSON
  kubectl cmsync diff ns-a ns-b --name app-config --keys config.yaml -o json

  # Every ConfigMap labelled team=web, to every namespace labelled env=prod
  kubectl cmsync diff -n ns-a -l team=web --target-selector env=prod

  # Every rule of a rules file (a pull-request check in CI)
  kubectl cmsync diff -f cmsync.yaml

Exit status: 0 nothing would change, 1 changes or conflicts, 2 an error.
Connection flags (--kubeconfig, --context, -n, -v, ...): kubectl cmsync --help)");
    add_target_options(*sub, options->targets);
    sub->add_option("-o,--output", options->output, "Output format: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    return [options, sub, &global] {
        auto rules = rules_from_options(*sub, options->targets, global);
        ClusterConnections clusters(global, rules);
        const auto runs =
            run_rules(clusters, rules, run_options(options->targets, global), nullptr);
        const bool from_file = !rules.front().name.empty();
        std::vector<TargetOutcome> all;
        std::vector<RuleReport> reports;
        std::string text = cluster_failure_lines(runs);
        bool rule_failed = !text.empty();
        for (const auto& run : runs) {
            all.insert(all.end(), run.outcomes.begin(), run.outcomes.end());
            rule_failed = rule_failed || !run.error.empty();
            reports.push_back({run.rule->name, run.error,
                               run.error.empty()
                                   ? render_diff_json(run.rule->spec.source_namespace, run.outcomes)
                                   : std::string()});
            text += run.error.empty() ? render_diff_text(run.outcomes, use_color(global.color))
                                      : run.rule->name + ": error: " + run.error + "\n";
        }
        if (options->output == "json") {
            std::cerr << cluster_failure_lines(runs);  // their named targets are in the JSON
            std::cout << (from_file ? render_rules_json(reports) : reports.front().json);
        } else {
            warn_empty_selections(runs);
            std::cout << text;
        }
        return rule_failed ? 2 : diff_exit_code(all);
    };
}

}  // namespace cmsync::cli
