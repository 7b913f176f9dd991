#include "plan/ownership.hpp"

#include <rapidjson/document.h>

#include "kube/json.hpp"

namespace cmsync {

std::optional<KeyHashes> parse_last_synced(const std::string& text) {
    kube::SizedDocument doc(text.size());
    if (!kube::parse_json_object(text, doc).empty()) {
        return std::nullopt;
    }
    KeyHashes out;
    for (const auto& m : doc.GetObject()) {
        if (!m.value.IsString()) {
            return std::nullopt;
        }
        out.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                    std::string(m.value.GetString(), m.value.GetStringLength()));
    }
    return out;
}

std::string format_last_synced(const KeyHashes& hashes) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    for (const auto& [key, hash] : hashes) {
        doc.AddMember(rapidjson::Value(key, a), rapidjson::Value(hash, a), a);
    }
    return kube::to_json(doc);
}

}  // namespace cmsync
