// kubeconfig loading and resolution (lib/kube/kubeconfig.*, rest_config.*): the input is one
// kubeconfig file; it is merged with itself, resolved for its current context and for every
// context it names, and read as a KUBECONFIG path list.
#include "error.hpp"
#include "fuzz_check.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/rest_config.hpp"

namespace kube = cmsync::kube;

namespace {

void resolve(const kube::Kubeconfig& config, const kube::ConnectionFlags& flags) {
    try {
        const auto rest = kube::resolve_rest_config(config, flags);
        cmsync::fuzz::check(
            rest.server.rfind("https://", 0) == 0 || rest.server.rfind("http://", 0) == 0,
            "a server URL that is neither http nor https");
    } catch (const cmsync::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    kube::kubeconfig_paths("", text, "/home/fuzz");
    try {
        const auto config = kube::parse_kubeconfig(text, "/home/fuzz/.kube/config");
        const auto merged = kube::merge_kubeconfigs({config, config});
        kube::ConnectionFlags flags;
        resolve(merged, flags);
        for (const auto& [name, entry] : merged.contexts) {
            flags.context = name;
            resolve(merged, flags);
        }
        flags = {};
        flags.server = "fuzz.example:6443";
        resolve(merged, flags);
    } catch (const cmsync::Error&) {
    }
    return 0;
}
