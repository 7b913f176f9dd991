#include "cmd_resync.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <rapidjson/document.h>

#include <iostream>
#include <memory>
#include <utility>

#include "connection.hpp"
#include "error.hpp"
#include "kube/json.hpp"
#include "sync/resync.hpp"
#include "sync/sync_report.hpp"
#include "sync/text_escape.hpp"
#include "sync/validate.hpp"
#include "test_hooks.hpp"

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
};

std::string outcome_json(const ResyncOutcome& r) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    const auto& o = r.target;
    doc.AddMember("namespace", rapidjson::Value(o.namespace_name, a), a);
    doc.AddMember("name", rapidjson::Value(o.name, a), a);
    doc.AddMember("source", rapidjson::Value(o.source, a), a);
    doc.AddMember("result", rapidjson::Value(r.kind, a), a);
    doc.AddMember("action", rapidjson::Value(sync_result(o), a), a);
    if (!o.plan.message.empty()) {
        doc.AddMember("message", rapidjson::Value(o.plan.message, a), a);
    }
    doc.AddMember("error", o.error.empty() ? rapidjson::Value() : rapidjson::Value(o.error, a), a);
    return kube::to_json(doc);
}

std::string outcome_text(const ResyncOutcome& r) {
    const auto& o = r.target;
    auto line = fmt::format("{}/{}: {}", o.namespace_name, o.name, r.kind);
    const auto action = sync_result(o);
    if (r.kind == "orphaned" && (action == "deleted" || action == "updated")) {
        line += action == "deleted" ? " (deleted)" : " (managed keys removed)";
    }
    if (!o.error.empty()) {
        line += ": " + o.error;
    } else if (!o.plan.message.empty()) {
        line += ": " + o.plan.message;
    }
    return line;
}

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
        request.prune = options->prune;
        request.force = options->force;
        request.dry_run = options->dry_run == "client"   ? DryRunMode::client
                          : options->dry_run == "server" ? DryRunMode::server
                                                         : DryRunMode::none;
        request.chunk_size = global.chunk_size;
        request.concurrency = options->concurrency;
        request.after_page = after_page();
        Connection connection(global);
        const bool json = options->output == "json";
        bool first = true;
        if (json) {
            std::cout << R"({"copies":[)";
        }
        const auto summary = resync(connection.api(), request, [&](const ResyncOutcome& r) {
            if (json) {
                std::cout << (first ? "" : ",") << outcome_json(r) << "\n";
                first = false;
            } else if (r.kind != "in-step") {
                std::cout << escape_control(outcome_text(r)) << "\n";
            }
        });
        int total = 0;
        for (const auto& [kind, count] : summary.counts) {
            total += count;
        }
        if (json) {
            rapidjson::Document doc(rapidjson::kObjectType);
            auto& a = doc.GetAllocator();
            rapidjson::Value counts(rapidjson::kObjectType);
            for (const auto& [kind, count] : summary.counts) {
                counts.AddMember(rapidjson::Value(kind, a), rapidjson::Value(count), a);
            }
            rapidjson::Value errors(rapidjson::kArrayType);
            for (const auto& e : summary.namespace_errors) {
                errors.PushBack(rapidjson::Value(e, a), a);
            }
            std::cout << R"(],"summary":)" << kube::to_json(counts) << R"(,"errors":)"
                      << kube::to_json(errors) << R"(,"listRestarts":)" << summary.list_restarts
                      << "}\n";
        } else {
            for (const auto& e : summary.namespace_errors) {
                std::cout << "error: " << escape_control(e) << "\n";
            }
            std::vector<std::string> parts;
            for (const char* kind : {"in-step", "updated", "conflict", "orphaned", "error"}) {
                const auto it = summary.counts.find(kind);
                parts.push_back(
                    fmt::format("{} {}", it == summary.counts.end() ? 0 : it->second, kind));
            }
            std::cout << fmt::format(
                "{} copies: {}{}{}\n", total, fmt::join(parts, ", "),
                summary.list_restarts > 0
                    ? fmt::format(" (list restarted {} time(s))", summary.list_restarts)
                    : "",
                request.dry_run == DryRunMode::none ? "" : " (dry run)");
        }
        const auto count = [&](const char* kind) {
            const auto it = summary.counts.find(kind);
            return it == summary.counts.end() ? 0 : it->second;
        };
        const bool orphans_left = count("orphaned") > 0 && !request.prune;
        return count("conflict") + count("error") > 0 || orphans_left ||
                       !summary.namespace_errors.empty()
                   ? 1
                   : 0;
    };
}

}  // namespace cmsync::cli
