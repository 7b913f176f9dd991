#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace cmsync::cli {

/// Adds `validate -f FILE...` to `app`: the rules file checks alone, without a cluster (for a
/// pre-commit hook). The returned function prints the rules found and returns 0, or throws
/// RulesError.
std::function<int()> setup_validate(CLI::App& app);

}  // namespace cmsync::cli
