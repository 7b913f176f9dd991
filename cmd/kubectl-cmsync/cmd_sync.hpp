#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "global_options.hpp"

namespace cmsync::cli {

/// Adds `sync` to `app`; the returned function runs it and returns the exit code.
std::function<int()> setup_sync(CLI::App& app, GlobalOptions& global);

}  // namespace cmsync::cli
