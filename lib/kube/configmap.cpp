#include "kube/configmap.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "kube/base64.hpp"
#include "kube/json.hpp"

namespace cmsync::kube {

namespace {

std::map<std::string, std::string> string_map(const rapidjson::Value* object) {
    std::map<std::string, std::string> out;
    if (object == nullptr) {
        return out;
    }
    for (const auto& m : object->GetObject()) {
        if (m.value.IsString()) {
            out.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                        std::string(m.value.GetString(), m.value.GetStringLength()));
        }
    }
    return out;
}

void set_member(rapidjson::Value& object, const char* key, rapidjson::Value value,
                rapidjson::Document::AllocatorType& alloc) {
    object.RemoveMember(key);
    if (!value.IsNull()) {
        object.AddMember(rapidjson::StringRef(key), value, alloc);
    }
}

rapidjson::Value string_object(const std::map<std::string, std::string>& entries,
                               rapidjson::Document::AllocatorType& alloc) {
    if (entries.empty()) {
        return rapidjson::Value(rapidjson::kNullType);
    }
    rapidjson::Value out(rapidjson::kObjectType);
    for (const auto& [key, value] : entries) {
        out.AddMember(rapidjson::Value(key, alloc), rapidjson::Value(value, alloc), alloc);
    }
    return out;
}

}  // namespace

ConfigMap configmap_from_value(rapidjson::Value& object, bool keep_raw) {
    if (!object.IsObject()) {
        throw Error("expected a ConfigMap: not a JSON object");
    }
    ConfigMap cm;
    if (const auto* meta = json_object(object, "metadata")) {
        cm.namespace_name = json_string(*meta, "namespace");
        cm.name = json_string(*meta, "name");
        cm.resource_version = json_string(*meta, "resourceVersion");
        cm.uid = json_string(*meta, "uid");
        cm.labels = string_map(json_object(*meta, "labels"));
        cm.annotations = string_map(json_object(*meta, "annotations"));
    }
    for (auto& [key, text] : string_map(json_object(object, "data"))) {
        cm.data[key] = Value{std::move(text), false};
    }
    for (const auto& [key, text] : string_map(json_object(object, "binaryData"))) {
        auto bytes = base64_decode(text);
        if (!bytes) {
            throw Error(fmt::format("ConfigMap {}/{}: binaryData key \"{}\" is not base64",
                                    cm.namespace_name, cm.name, key));
        }
        cm.data[key] = Value{std::move(*bytes), true};
    }
    if (const auto it = object.FindMember("immutable");
        it != object.MemberEnd() && it->value.IsBool()) {
        cm.immutable = it->value.GetBool();
    }
    if (keep_raw) {
        // What an update starts from needs no data (configmap_to_json sets it) and no
        // managedFields (never sent back): without them a copy takes a fraction of the memory.
        object.RemoveMember("data");
        object.RemoveMember("binaryData");
        if (const auto meta = object.FindMember("metadata");
            meta != object.MemberEnd() && meta->value.IsObject()) {
            meta->value.RemoveMember("managedFields");
        }
        cm.raw = to_json(object);
    }
    return cm;
}

ConfigMap configmap_from_json(const std::string& json, bool keep_raw) {
    SizedDocument doc(json.size());
    if (const auto problem = parse_json_object(json, doc); !problem.empty()) {
        throw Error("expected a ConfigMap: " + problem);
    }
    return configmap_from_value(doc, keep_raw);
}

std::string configmap_to_json(const ConfigMap& cm) {
    // raw holds no data: the pool takes the values too (base64 makes binary ones 4/3 longer).
    SizedDocument doc(cm.raw.size() + configmap_data_size(cm) * 4 / 3 + 64 * cm.data.size());
    if (cm.raw.empty() || !parse_json_object(cm.raw, doc).empty()) {
        doc.SetObject();
    }
    auto& alloc = doc.GetAllocator();
    set_member(doc, "apiVersion", rapidjson::Value("v1"), alloc);
    set_member(doc, "kind", rapidjson::Value("ConfigMap"), alloc);
    if (!doc.HasMember("metadata") || !doc["metadata"].IsObject()) {
        set_member(doc, "metadata", rapidjson::Value(rapidjson::kObjectType), alloc);
    }
    auto& meta = doc["metadata"];
    set_member(meta, "name", rapidjson::Value(cm.name, alloc), alloc);
    set_member(meta, "namespace", rapidjson::Value(cm.namespace_name, alloc), alloc);
    set_member(meta, "resourceVersion",
               cm.resource_version.empty() ? rapidjson::Value()
                                           : rapidjson::Value(cm.resource_version, alloc),
               alloc);
    // managedFields are the server's bookkeeping; sending them back stale is rejected or
    // misattributes fields.
    meta.RemoveMember("managedFields");
    set_member(meta, "labels", string_object(cm.labels, alloc), alloc);
    set_member(meta, "annotations", string_object(cm.annotations, alloc), alloc);
    std::map<std::string, std::string> text;
    std::map<std::string, std::string> binary;
    for (const auto& [key, value] : cm.data) {
        if (value.binary) {
            binary[key] = base64_encode(value.bytes);
        } else {
            text[key] = value.bytes;
        }
    }
    set_member(doc, "data", string_object(text, alloc), alloc);
    set_member(doc, "binaryData", string_object(binary, alloc), alloc);
    set_member(doc, "immutable", cm.immutable ? rapidjson::Value(true) : rapidjson::Value(), alloc);
    return to_json(doc);
}

std::size_t configmap_data_size(const ConfigMap& cm) {
    std::size_t total = 0;
    for (const auto& [key, value] : cm.data) {
        total += value.bytes.size();
    }
    return total;
}

}  // namespace cmsync::kube
