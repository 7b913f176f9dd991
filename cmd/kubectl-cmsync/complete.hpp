#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include <string>
#include <vector>

namespace cmsync::cli {

/// `kubectl-cmsync __complete ARGS... PARTIAL`: kubectl's plugin completion protocol (also what
/// the shell scripts call). Prints one candidate per line, then ":<directive>" (cobra's
/// ShellCompDirective: 4 = no file completion, 0 = default). Commands and flags come from
/// `app`, namespaces, ConfigMap names and keys from the cluster (short timeout, silent on
/// failure). Always returns 0.
int run_complete(CLI::App& app, const std::vector<std::string>& args);

/// The completion script for `shell` (bash, zsh or fish); throws UsageError otherwise.
std::string completion_script(const std::string& shell);

}  // namespace cmsync::cli

namespace cmsync::cli {

/// Adds `completion SHELL` to `app`; the returned function prints the script.
std::function<int()> setup_completion(CLI::App& app);

}  // namespace cmsync::cli
