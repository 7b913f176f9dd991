#include "cmd_resync.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "cluster_connections.hpp"
#include "error.hpp"
#include "report/resync_report.hpp"
#include "sync/resync.hpp"
#include "target_options.hpp"
#include "test_hooks.hpp"
#include "util/validate.hpp"

namespace cmsync::cli {

namespace {

struct ResyncOptions {
    std::vector<std::string> namespaces;
    bool all_namespaces = false;
    bool prune = false;
    bool force = false;
    std::string dry_run = "none";
    std::string output = "text";
    int concurrency = 16;
    kube::Kind kind = kube::kConfigMap;
};

// Run after each page of the copy list, once the page is freed. Its memory goes back to the
// system (as main.cpp's malloc settings, a matter of this process): left in the heap, it lifted
// the peak by about 1 MiB as pages went by (100,000 copies: 30.0-30.2 MiB, trimmed 28.5-28.9).
// The e2e suite's fault build adds its hook there (test_hooks.hpp).
std::function<void()> after_page() {
    auto hook = test_after_page_hook();
    return [hook = std::move(hook)] {
        malloc_trim(0);
        if (hook) {
            hook();
        }
    };
}

}  // namespace

std::function<int()> setup_resync(CLI::App& app, GlobalOptions& global) {
    auto options = std::make_shared<ResyncOptions>();
    auto* sub = app.add_subcommand("resync", "Repair every copy from its recorded source");
    sub->footer(R"(Examples:
  # Every copy in the cluster (needs a ClusterRole to list ConfigMaps in all namespaces)
  kubectl cmsync resync -A

  # Copies in two namespaces, without writing, as JSON
  kubectl cmsync resync team-a team-b --dry-run=client -o json

  # Also remove the keys of copies whose source is gone
  kubectl cmsync resync -A --prune

Exit status: 0 every copy in step (or repaired), 1 a copy in conflict, orphaned or in error,
or a namespace that could not be listed; 2 the command could not run.
Connection flags (--kubeconfig, --context, -n, -v, ...): kubectl cmsync --help)");
    sub->add_option("namespaces", options->namespaces, "Namespaces to repair copies in");
    sub->add_flag("-A,--all-namespaces", options->all_namespaces, "Every namespace");
    add_kind_option(*sub, options->kind);
    sub->add_flag("--prune", options->prune,
                  "Remove managed keys of copies whose source is gone (and empty copies)");
    sub->add_flag("--force", options->force, "Overwrite hand-edited managed keys");
    sub->add_option("--dry-run", options->dry_run, "none, client or server")
        ->check(CLI::IsMember({"none", "client", "server"}));
    sub->add_option("-o,--output", options->output, "text or json")
        ->check(CLI::IsMember({"text", "json"}));
    sub->add_option("--concurrency", options->concurrency, "Copies handled at once")
        ->check(whole_number(1, 256));
    return [options, &global] {
        ResyncRequest request;
        request.namespaces = options->namespaces;
        if (!global.connection.namespace_name.empty()) {
            request.namespaces.push_back(global.connection.namespace_name);
        }
        if (options->all_namespaces && !request.namespaces.empty()) {
            throw UsageError("give namespaces or -A, not both");
        }
        if (!options->all_namespaces && request.namespaces.empty()) {
            throw UsageError("no namespace: give NAMESPACE... or -A/--all-namespaces");
        }
        for (const auto& ns : request.namespaces) {
            if (const auto why = invalid_namespace(ns)) {
                throw UsageError(*why);
            }
        }
        request.kind = options->kind;
        request.prune = options->prune;
        request.force = options->force;
        request.dry_run = options->dry_run == "client"   ? DryRunMode::client
                          : options->dry_run == "server" ? DryRunMode::server
                                                         : DryRunMode::none;
        request.chunk_size = global.chunk_size;
        request.concurrency = options->concurrency;
        request.after_page = after_page();
        ClusterConnections clusters(global);
        request.cluster_api = [&clusters](const std::string& cluster) -> kube::ApiClient& {
            return clusters.context_api(cluster);
        };
        const bool json = options->output == "json";
        bool first = true;
        if (json) {
            std::cout << render_resync_json_open();
        }
        const auto summary = resync(clusters.api({}), request, [&](const ResyncOutcome& r) {
            if (json) {
                std::cout << render_resync_json_copy(r, first);
                first = false;
            } else if (const auto line = render_resync_line(r); !line.empty()) {
                std::cout << line << "\n";
            }
        });
        std::cout << (json ? render_resync_json_close(summary)
                           : render_resync_summary_text(summary, request.dry_run));
        return resync_exit_code(summary, request.prune);
    };
}

}  // namespace cmsync::cli
