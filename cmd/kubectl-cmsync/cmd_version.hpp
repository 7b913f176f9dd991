#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace cmsync::cli {

/// Adds `version` to `app`; the returned function prints the version and returns 0.
std::function<int()> setup_version(CLI::App& app);

}  // namespace cmsync::cli
