#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace cmsync::cli {

/// Adds `diff` to `app`; the returned function runs it and returns the exit code.
std::function<int()> setup_diff(CLI::App& app);

}  // namespace cmsync::cli
