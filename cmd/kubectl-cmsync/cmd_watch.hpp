#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "global_options.hpp"

namespace cmsync::cli {

/// Adds `watch` to `app`; the returned function runs it until SIGINT/SIGTERM.
std::function<int()> setup_watch(CLI::App& app, GlobalOptions& global);

}  // namespace cmsync::cli
