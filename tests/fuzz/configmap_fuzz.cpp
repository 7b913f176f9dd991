// ConfigMap JSON in and out (lib/kube/configmap.*, json.*): whatever parses must survive
// configmap_to_json and read back the same, and the JSON writer must be a fixed point.
#include <rapidjson/document.h>

#include "error.hpp"
#include "fuzz_check.hpp"
#include "kube/json.hpp"
#include "kube/object.hpp"

using cmsync::fuzz::check;
namespace kube = cmsync::kube;

namespace {

bool same(const kube::Object& a, const kube::Object& b) {
    return a.namespace_name == b.namespace_name && a.name == b.name &&
           a.resource_version == b.resource_version && a.labels == b.labels &&
           a.annotations == b.annotations && a.data == b.data && a.immutable == b.immutable;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    rapidjson::Document doc;
    if (kube::parse_json_object(text, doc).empty()) {
        const auto once = kube::to_json(doc);
        rapidjson::Document again;
        check(kube::parse_json_object(once, again).empty(), "to_json wrote what cannot be read");
        check(kube::to_json(again) == once, "to_json is not a fixed point");
    }
    try {
        auto cm = kube::object_from_json(kube::kConfigMap, text, true);
        const auto with_raw =
            kube::object_from_json(kube::kConfigMap, kube::object_to_json(cm), true);
        check(same(cm, with_raw), "a ConfigMap changed on its way out (with raw)");
        check(with_raw.uid == cm.uid, "the uid of raw was lost");
        cm.raw.clear();
        const auto without_raw =
            kube::object_from_json(kube::kConfigMap, kube::object_to_json(cm), false);
        check(same(cm, without_raw), "a ConfigMap changed on its way out (without raw)");
        check(kube::object_data_size(cm) == kube::object_data_size(without_raw),
              "data size changed");
    } catch (const cmsync::Error&) {
    }
    return 0;
}
