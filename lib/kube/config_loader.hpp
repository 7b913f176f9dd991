#pragma once

#include <functional>
#include <optional>
#include <string>

#include "kube/rest_config.hpp"

namespace cmsync::kube {

/// The files the loader may read, behind a tiny interface (tests give a map; the command the
/// disk).
struct ConfigFiles {
    std::function<bool(const std::string& path)> exists;
    /// The file's text; throws Error naming the path when it cannot be read.
    std::function<std::string(const std::string& path)> read;
};

/// The kubeconfig files (--kubeconfig, else $KUBECONFIG's list, else ~/.kube/config; missing
/// list entries skipped, a missing --kubeconfig an Error), merged; nothing when there are none
/// (in the cluster, or flags only). No request is made.
std::optional<Kubeconfig> load_kubeconfig(const ConnectionFlags& flags, const Environment& env,
                                          const ConfigFiles& files);

/// Resolves where and as whom to connect, as kubectl does, without any request: the kubeconfig
/// files (--kubeconfig, else $KUBECONFIG's list, else ~/.kube/config; missing list entries are
/// skipped, a missing --kubeconfig is an Error), merged; with none, the in-cluster service
/// account when KUBERNETES_SERVICE_HOST is set; then the flags on top. Throws Error naming the
/// file and field when something is wrong.
RestConfig load_rest_config(const ConnectionFlags& flags, const Environment& env,
                            const ConfigFiles& files);

}  // namespace cmsync::kube
