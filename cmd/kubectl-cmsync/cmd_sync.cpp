#include "cmd_sync.hpp"

#include <iostream>
#include <memory>

#include "cluster_connections.hpp"
#include "error.hpp"
#include "output.hpp"
#include "report/report_json.hpp"
#include "report/sync_report.hpp"
#include "rule_runs.hpp"
#include "rules_files.hpp"
#include "target_options.hpp"
#include "test_hooks.hpp"

namespace cmsync::cli {

namespace {

struct SyncOptions {
    TargetOptions targets;
    std::string output = "text";
    std::string dry_run = "none";
};

DryRunMode parse_dry_run(const std::string& text) {
    if (text == "client") {
        return DryRunMode::client;
    }
    if (text == "server") {
        return DryRunMode::server;
    }
    return DryRunMode::none;
}

}  // namespace

std::function<int()> setup_sync(CLI::App& app, GlobalOptions& global) {
    auto options = std::make_shared<SyncOptions>();
    auto* sub = app.add_subcommand("sync", "Bring every target in step once (for CI pipelines)");
    sub->footer(R"(Examples:
  # Copy app-config's config.yaml key from ns-a to ns-b and ns-c; other keys stay untouched
  kubectl cmsync sync ns-a ns-b ns-c --name app-config --keys config.yaml

  # Let the API server validate everything, store nothing
  kubectl cmsync sync ns-a ns-b --name app-config --dry-run=server

  # Overwrite hand edits of managed keys, as JSON for a pipeline
  kubectl cmsync sync ns-a ns-b --name app-config --force -o json

  # Every rule of a rules file (on merge, in CI)
  kubectl cmsync sync -f cmsync.yaml

Exit status: 0 every target in step, 1 a target in conflict or error (the others were still
synced), 2 the command could not run (usage, kubeconfig, auth, unreachable server, no source).
Connection flags (--kubeconfig, --context, -n, -v, ...): kubectl cmsync --help)");
    add_target_options(*sub, options->targets);
    sub->add_option("-o,--output", options->output, "Output format: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    sub->add_option("--dry-run", options->dry_run,
                    "none: write; client: only plan; server: the server validates, stores nothing")
        ->check(CLI::IsMember({"none", "client", "server"}));
    return [options, sub, &global] {
        auto rules = rules_from_options(*sub, options->targets, global);
        ClusterConnections clusters(global, rules);
        WriteOptions write;
        write.dry_run = parse_dry_run(options->dry_run);
        write.before_write = test_before_write_hook();
        const auto runs = run_rules(clusters, rules, run_options(options->targets, global), &write);
        warn_empty_selections(runs);
        const bool from_file = !rules.front().name.empty();
        std::vector<TargetOutcome> all;
        std::vector<RuleReport> reports;
        std::string errors = cluster_failure_lines(runs);
        for (const auto& run : runs) {
            all.insert(all.end(), run.outcomes.begin(), run.outcomes.end());
            reports.push_back({run.rule->name, run.error,
                               run.error.empty() ? render_sync_json(run.rule->spec.source_namespace,
                                                                    run.outcomes, write.dry_run)
                                                 : std::string()});
            if (!run.error.empty()) {
                errors += run.rule->name + ": error: " + run.error + "\n";
            }
        }
        if (options->output == "json") {
            std::cerr << cluster_failure_lines(runs);  // their named targets are in the JSON
            std::cout << (from_file ? render_rules_json(reports) : reports.front().json);
        } else {
            std::cout << errors << render_sync_text(all, write.dry_run, use_color(global.color));
        }
        return errors.empty() ? sync_exit_code(all) : 1;
    };
}

}  // namespace cmsync::cli
