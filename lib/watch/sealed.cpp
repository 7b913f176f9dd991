#include "watch/sealed.hpp"

#include <random>

#include "util/sha256.hpp"

namespace cmsync {

namespace {

// kubectl apply's record of the object it sent: a Secret's values, base64-encoded.
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

// 256 bits from the system's entropy source, drawn once per process.
const std::string& process_key() {
    static const std::string key = [] {
        std::random_device device;
        std::string out;
        while (out.size() < 32) {
            const auto word = device();
            for (int i = 0; i < 4; ++i) {
                out.push_back(static_cast<char>((word >> (8 * i)) & 0xff));
            }
        }
        return out;
    }();
    return key;
}

}  // namespace

kube::Value seal(const kube::Value& value) {
    // The key is of a fixed length and comes first: equal digests mean equal values (but for
    // a SHA-256 collision), and without the key no guess can be tested against one.
    return {sha256_hex(process_key() + value.bytes), value.binary};
}

kube::Object sealed(kube::Object object) {
    if (object.sealed) {
        return object;
    }
    object.annotations.erase(kLastApplied);
    if (object.raw.find(kLastApplied) != std::string::npos) {
        auto meta = kube::object_from_json(object.kind, object.raw, true);
        meta.annotations.erase(kLastApplied);
        object.raw = kube::object_to_json(meta);
    }
    for (auto& [key, value] : object.data) {
        value = seal(value);
    }
    object.sealed = true;
    return object;
}

}  // namespace cmsync
