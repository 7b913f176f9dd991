#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kube/api_client.hpp"
#include "sync/report.hpp"

namespace cmsync {

/// Which source ConfigMaps: names, a label selector, or all; exactly one is set.
struct Selection {
    std::vector<std::string> names;
    std::string label_selector;
    bool all = false;
};

/// What diff and sync are asked to do, validated by the command line.
struct SyncRequest {
    std::string source_namespace;
    std::vector<std::string> target_namespaces;
    std::string target_selector;  ///< label selector for more target namespaces
    Selection selection;
    std::optional<std::vector<std::string>> keys;
    bool force = false;
    int chunk_size = 500;
    int concurrency = 16;
};

/// The source ConfigMaps selected, read once.
std::vector<kube::ConfigMap> read_sources(kube::ApiClient& api, const SyncRequest& request);

/// The target namespaces: those named plus those matching the target selector, without the
/// source namespace, sorted and unique.
std::vector<std::string> resolve_targets(kube::ApiClient& api, const SyncRequest& request);

/// The current copies in `ns` of `sources` (by name; absent ones are missing). A few names
/// are read with GETs, more with one paged list of the namespace.
std::vector<std::optional<kube::ConfigMap>> read_targets(
    kube::ApiClient& api, const std::string& ns, const std::vector<kube::ConfigMap>& sources,
    int chunk_size);

/// Plans every (source, target namespace) pair; reads run concurrently per namespace. A failed
/// read becomes that target's error; other targets are unaffected.
std::vector<TargetOutcome> plan_all(kube::ApiClient& api, const SyncRequest& request,
                                    const std::vector<kube::ConfigMap>& sources,
                                    const std::vector<std::string>& targets);

}  // namespace cmsync
