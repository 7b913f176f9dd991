// One watch event object (lib/kube/watch_event.*), read as a ConfigMap event and as a
// namespace event.
#include "error.hpp"
#include "fuzz_check.hpp"
#include "kube/watch_event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    for (const bool configmaps : {true, false}) {
        try {
            const auto event = cmsync::kube::parse_watch_event(
                text, configmaps ? &cmsync::kube::kConfigMap : nullptr);
            cmsync::fuzz::check(configmaps || !event.object, "an object on a namespace event");
        } catch (const cmsync::Error&) {
        }
    }
    return 0;
}
