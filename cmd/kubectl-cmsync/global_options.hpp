#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <string>

#include "kube/rest_config.hpp"

namespace cmsync::cli {

/// Flags every command that talks to a cluster takes (kubectl's plus cmsync's own).
struct GlobalOptions {
    kube::ConnectionFlags connection;
    std::string request_timeout = "0";
    bool insecure_skip_tls_verify = false;
    int verbosity = 0;
    int chunk_size = 500;
    std::string color = "auto";
    /// Every request of the command together ends within this (completion); zero: no limit.
    std::chrono::milliseconds overall_limit{0};
};

/// Accepts a whole number from `min` to `max`; anything else is "must be ..., got X" (a
/// positive integer, or the range), never CLI11's floating-point range text.
CLI::Validator whole_number(int min, int max);

/// Adds kubectl's standard connection flags and -v, --chunk-size, --color to `app`.
void add_global_options(CLI::App& app, GlobalOptions& options);

/// Checks values CLI11 cannot (durations); throws UsageError. Call after parsing.
void finish_global_options(CLI::App& app, GlobalOptions& options);

}  // namespace cmsync::cli
