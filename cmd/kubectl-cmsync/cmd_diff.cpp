#include "cmd_diff.hpp"

#include <iostream>
#include <memory>

#include "connection.hpp"
#include "output.hpp"
#include "sync/planner.hpp"
#include "sync/report.hpp"
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

Exit status: 0 nothing would change, 1 changes or conflicts, 2 an error.
Connection flags (--kubeconfig, --context, -n, -v, ...): kubectl cmsync --help)");
    add_target_options(*sub, options->targets);
    sub->add_option("-o,--output", options->output, "Output format: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    return [options, sub, &global] {
        const auto request = make_sync_request(*sub, options->targets, global);
        Connection connection(global);
        auto& api = connection.api();
        const auto sources = read_sources(api, request);
        const auto targets = resolve_targets(api, request);
        auto outcomes = plan_all(api, request, sources, targets);
        check_target_namespaces(api, outcomes, request.concurrency);
        if (options->output == "json") {
            std::cout << render_diff_json(request.source_namespace, outcomes);
        } else {
            if (sources.empty()) {
                std::cerr << "warning: no ConfigMap in namespace \"" << request.source_namespace
                          << "\" matches the selection\n";
            }
            std::cout << render_diff_text(outcomes, use_color(global.color));
        }
        return diff_exit_code(outcomes);
    };
}

}  // namespace cmsync::cli
