#pragma once

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
};

}  // namespace cmsync
