#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "global_options.hpp"

namespace cmsync::cli {

/// Adds `resync` to `app`; the returned function runs it and returns the exit code.
std::function<int()> setup_resync(CLI::App& app, GlobalOptions& global);

}  // namespace cmsync::cli
