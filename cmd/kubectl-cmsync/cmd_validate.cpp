#include "cmd_validate.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "rules_files.hpp"

namespace cmsync::cli {

std::function<int()> setup_validate(CLI::App& app) {
    auto files = std::make_shared<std::vector<std::string>>();
    auto* sub = app.add_subcommand("validate",
                                   "Check rules files (SyncConfig) and rule objects "
                                   "(ClusterSyncRule, SyncRule, SyncGrant) without a "
                                   "cluster, e.g. in a pre-commit hook");
    sub->footer(R"(Examples:
  kubectl cmsync validate -f cmsync.yaml
  kubectl cmsync validate -f rules/            # every *.yaml, *.yml and *.json file in it
  kubectl cmsync validate -f syncrule.yaml     # a ClusterSyncRule, SyncRule or SyncGrant, before kubectl apply

Exit status: 0 every rule is valid, 2 a problem (one line each: FILE:LINE:COLUMN: ...).)");
    sub->add_option("-f,--filename", *files, "Rules file, folder of them, or - for stdin")
        ->required()
        ->allow_extra_args(false);  // one value per -f, as kubectl
    return [files] {
        std::vector<std::string> grants;
        const auto rules = load_rules(read_rules_files(*files), RuleObjects::accept, &grants);
        for (const auto& rule : rules) {
            std::cout << fmt::format("{}: rule \"{}\" valid\n", rule.where, rule.name);
        }
        for (const auto& grant : grants) {
            std::cout << fmt::format("{} valid\n", grant);
        }
        const auto plural = [](std::size_t n) { return n == 1 ? "" : "s"; };
        std::cout << fmt::format("{} rule{} valid", rules.size(), plural(rules.size()));
        if (!grants.empty()) {
            std::cout << fmt::format(", {} grant{} valid", grants.size(), plural(grants.size()));
        }
        std::cout << "\n";
        return 0;
    };
}

}  // namespace cmsync::cli
