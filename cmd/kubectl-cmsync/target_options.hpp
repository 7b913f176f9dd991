#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "global_options.hpp"
#include "sync/planner.hpp"

namespace cmsync::cli {

/// SOURCE_NS TARGET_NS... plus the selection flags shared by diff, sync and watch.
struct TargetOptions {
    std::vector<std::string> files;  ///< -f: rules files instead of the positional form
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

/// Validates the arguments into a request; throws UsageError before any request is sent.
SyncRequest make_sync_request(const CLI::App& app, const TargetOptions& options,
                              const GlobalOptions& global);

}  // namespace cmsync::cli
