#include "kube/json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace cmsync::kube {

std::string json_string(const rapidjson::Value& object, std::string_view key) {
    if (!object.IsObject()) {
        return {};
    }
    const auto it = object.FindMember(
        rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
    if (it == object.MemberEnd() || !it->value.IsString()) {
        return {};
    }
    return {it->value.GetString(), it->value.GetStringLength()};
}

const rapidjson::Value* json_object(const rapidjson::Value& object, std::string_view key) {
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto it = object.FindMember(
        rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
    if (it == object.MemberEnd() || !it->value.IsObject()) {
        return nullptr;
    }
    return &it->value;
}

std::string to_json(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer(nullptr, 4096);  // a ConfigMap's size, not grown from 256 B
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace cmsync::kube
