#include "plan/ownership.hpp"

#include <rapidjson/document.h>

#include "kube/json.hpp"

namespace cmsync {

std::optional<kube::ObjectRef> sync_from(const kube::Object& copy) {
    const auto it = copy.annotations.find(kSyncFromAnnotation);
    if (it == copy.annotations.end()) {
        return std::nullopt;
    }
    const auto& text = it->second;
    const auto slash = text.find('/');
    if (slash == 0 || slash == std::string::npos || slash + 1 == text.size() ||
        text.find('/', slash + 1) != std::string::npos) {
        return std::nullopt;
    }
    return kube::ObjectRef{text.substr(0, slash), text.substr(slash + 1)};
}

bool copy_of(const kube::Object& copy, const kube::ObjectRef& source) {
    return sync_from(copy) == source;
}

std::string sync_from_text(const kube::ObjectRef& source) {
    return source.str();
}

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
