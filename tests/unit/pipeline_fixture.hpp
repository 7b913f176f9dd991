#pragma once

// What the pipeline's tests (one cluster and across clusters) build their runs from.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "sync/pipeline.hpp"

namespace cmsync {

/// A spec of source src/app into `targets`.
inline SyncSpec app_spec(std::vector<std::string> targets) {
    SyncSpec spec;
    spec.source_namespace = "src";
    spec.selection.names = {"app"};
    spec.target_namespaces = std::move(targets);
    return spec;
}

/// Writes that never wait (no backoff sleep, no jitter), with `mode`.
inline WriteOptions write_options(DryRunMode mode = DryRunMode::none) {
    WriteOptions w;
    w.dry_run = mode;
    w.sleep = [](std::chrono::milliseconds) {};
    w.jitter = [] { return 0.0; };
    return w;
}

}  // namespace cmsync
