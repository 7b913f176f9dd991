#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "kube/kind.hpp"

namespace cmsync {

/// Which source objects: names, a label selector, or all; exactly one is set.
struct Selection {
    std::vector<std::string> names;
    std::string label_selector;
    bool all = false;
};

/// What to sync, as a rule says it (a rules file's rule, the positional form, and next a rule
/// object's spec): never how a run goes (RunOptions, WriteOptions).
struct SyncSpec {
    kube::Kind kind = kube::kConfigMap;
    std::string source_namespace;
    Selection selection;
    std::vector<std::string> target_namespaces;
    std::string target_selector;                   ///< label selector for more target namespaces
    std::vector<std::string> exclude_namespaces;   ///< never targets (rules files)
    std::optional<std::vector<std::string>> keys;  ///< nothing: every key of the source
    bool prune = false;  ///< watch: copies of a deleted source lose their managed keys
    /// Consent: when set, no namespace but these may be a target (a SyncRule's grants).
    std::optional<std::vector<std::string>> granted_namespaces;
};

/// Whether `ns` may be one of `spec`'s targets: not its source namespace, not excluded, and
/// granted when grants are asked for.
inline bool may_target(const SyncSpec& spec, const std::string& ns) {
    const auto has = [&](const std::vector<std::string>& list) {
        return std::find(list.begin(), list.end(), ns) != list.end();
    };
    return ns != spec.source_namespace && !has(spec.exclude_namespaces) &&
           (!spec.granted_namespaces || has(*spec.granted_namespaces));
}

}  // namespace cmsync
