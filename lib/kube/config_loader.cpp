#include "kube/config_loader.hpp"

#include <fmt/format.h>

#include <vector>

#include "error.hpp"
#include "kube/kubeconfig.hpp"

namespace cmsync::kube {

std::optional<Kubeconfig> load_kubeconfig(const ConnectionFlags& flags, const Environment& env,
                                          const ConfigFiles& files) {
    const auto paths = kubeconfig_paths(flags.kubeconfig, env.kubeconfig, env.home);
    std::vector<Kubeconfig> configs;
    for (const auto& path : paths) {
        if (!files.exists(path)) {
            if (!flags.kubeconfig.empty()) {
                throw Error(fmt::format("kubeconfig {} (--kubeconfig) does not exist", path));
            }
            continue;  // KUBECONFIG entries and ~/.kube/config may be absent, as in kubectl
        }
        configs.push_back(parse_kubeconfig(files.read(path), path));
    }
    if (configs.empty()) {
        return std::nullopt;
    }
    return merge_kubeconfigs(configs);
}

RestConfig load_rest_config(const ConnectionFlags& flags, const Environment& env,
                            const ConfigFiles& files) {
    const auto config = load_kubeconfig(flags, env, files);
    if (!config) {
        const auto paths = kubeconfig_paths(flags.kubeconfig, env.kubeconfig, env.home);
        if (!env.service_host.empty()) {
            std::string ns;
            try {
                ns = files.read(env.service_account_dir + "/namespace");
            } catch (const Error&) {
            }
            return in_cluster_config(env, ns, flags);
        }
        if (flags.server.empty()) {
            throw Error(fmt::format(
                "no kubeconfig found (looked at {}); set KUBECONFIG, --kubeconfig or --server",
                paths.empty() ? std::string("$HOME/.kube/config")
                              : fmt::format("{}", fmt::join(paths, ":"))));
        }
    }
    return resolve_rest_config(config ? *config : merge_kubeconfigs({}), flags);
}

}  // namespace cmsync::kube
