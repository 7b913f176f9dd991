#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "global_options.hpp"
#include "plan/sync_spec.hpp"
#include "sync/run_options.hpp"

namespace cmsync::cli {

/// SOURCE_NS TARGET_NS... plus the selection flags shared by diff, sync and watch.
struct TargetOptions {
    std::vector<std::string> files;  ///< -f: rules files instead of the positional form
    kube::Kind kind = kube::kConfigMap;
    std::string source_context;                ///< the source's kubeconfig context
    std::vector<std::string> target_contexts;  ///< the targets' contexts, each on its own
    std::vector<std::string> namespaces;
    std::vector<std::string> names;
    std::string selector;
    bool all = false;
    std::vector<std::string> keys;
    std::string target_selector;
    bool force = false;
    int concurrency = 16;
};

/// Adds the positionals and selection flags to `app`.
void add_target_options(CLI::App& app, TargetOptions& options);
/// Adds --kind (configmap, cm, secret) to `app`, setting `kind`; another word is a usage
/// error that lists the kinds.
void add_kind_option(CLI::App& app, kube::Kind& kind);

/// Validates the positional form into what to sync; throws UsageError before any request is
/// sent.
SyncSpec make_sync_spec(const CLI::App& app, const TargetOptions& options,
                        const GlobalOptions& global);

/// How diff, sync and watch run, from their flags (--force, --concurrency, --chunk-size).
RunOptions run_options(const TargetOptions& options, const GlobalOptions& global);

}  // namespace cmsync::cli
