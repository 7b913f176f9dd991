#include "kube/object.hpp"

#include <fmt/format.h>

#include <set>

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

namespace {

// Reads the data of `object` by its kind's encoding: a ConfigMap's `data` is text and its
// `binaryData` base64; a Secret's `data` is all base64 (`stringData` is write-only).
void read_data(const Kind& kind, const rapidjson::Value& object, Object& out) {
    const auto decode_into = [&](const char* field, bool binary) {
        for (const auto& [key, text] : string_map(json_object(object, field))) {
            auto bytes = base64_decode(text);
            if (!bytes) {
                throw Error(fmt::format("{} {}/{}: {} key \"{}\" is not base64", kind.name,
                                        out.namespace_name, out.name, field, key));
            }
            out.data[key] = Value{std::move(*bytes), binary};
        }
    };
    if (kind == kSecret) {
        decode_into("data", true);
        out.type = json_string(object, "type");
        return;
    }
    for (auto& [key, text] : string_map(json_object(object, "data"))) {
        out.data[key] = Value{std::move(text), false};
    }
    decode_into("binaryData", true);
}

// Sets the data of `doc` by `object`'s kind (see read_data).
void write_data(const Object& object, rapidjson::Document& doc) {
    auto& alloc = doc.GetAllocator();
    std::map<std::string, std::string> text;
    std::map<std::string, std::string> binary;
    const bool all_base64 = object.kind == kSecret;
    for (const auto& [key, value] : object.data) {
        if (all_base64 || value.binary) {
            binary[key] = base64_encode(value.bytes);
        } else {
            text[key] = value.bytes;
        }
    }
    if (all_base64) {
        doc.RemoveMember("stringData");
        set_member(doc, "data", string_object(binary, alloc), alloc);
        set_member(doc, "type",
                   object.type.empty() ? rapidjson::Value() : rapidjson::Value(object.type, alloc),
                   alloc);
        return;
    }
    set_member(doc, "data", string_object(text, alloc), alloc);
    set_member(doc, "binaryData", string_object(binary, alloc), alloc);
}

// The data keys that entries of kFieldManager in `managedFields` hold: {"f:data": {"f:KEY": {}}}.
std::vector<std::string> keys_set_by_cmsync(const rapidjson::Value& meta) {
    std::set<std::string> keys;
    const auto fields = meta.FindMember("managedFields");
    if (fields == meta.MemberEnd() || !fields->value.IsArray()) {
        return {};
    }
    for (const auto& entry : fields->value.GetArray()) {
        if (!entry.IsObject() || json_string(entry, "manager") != kFieldManager) {
            continue;
        }
        const auto* v1 = json_object(entry, "fieldsV1");
        const auto* data = v1 != nullptr ? json_object(*v1, "f:data") : nullptr;
        if (data == nullptr) {
            continue;
        }
        for (const auto& m : data->GetObject()) {
            const std::string_view name(m.name.GetString(), m.name.GetStringLength());
            if (name.rfind("f:", 0) == 0) {
                keys.emplace(name.substr(2));
            }
        }
    }
    return {keys.begin(), keys.end()};
}

}  // namespace

Object object_from_value(const Kind& kind, rapidjson::Value& object, bool keep_raw) {
    if (!object.IsObject()) {
        throw Error(fmt::format("expected a {}: not a JSON object", kind.name));
    }
    Object out;
    out.kind = kind;
    if (const auto* meta = json_object(object, "metadata")) {
        out.namespace_name = json_string(*meta, "namespace");
        out.name = json_string(*meta, "name");
        out.resource_version = json_string(*meta, "resourceVersion");
        out.uid = json_string(*meta, "uid");
        out.labels = string_map(json_object(*meta, "labels"));
        out.annotations = string_map(json_object(*meta, "annotations"));
        if (kind.sensitive) {
            out.owned_keys = keys_set_by_cmsync(*meta);
        }
    }
    read_data(kind, object, out);
    if (const auto it = object.FindMember("immutable");
        it != object.MemberEnd() && it->value.IsBool()) {
        out.immutable = it->value.GetBool();
    }
    if (keep_raw) {
        // What an update starts from needs no data (object_to_json sets it) and no
        // managedFields (never sent back): without them a copy takes a fraction of the memory.
        // A sensitive kind's keep them: they say which keys cmsync owns when parsed again.
        object.RemoveMember("data");
        object.RemoveMember("binaryData");
        object.RemoveMember("stringData");
        if (const auto meta = object.FindMember("metadata");
            !kind.sensitive && meta != object.MemberEnd() && meta->value.IsObject()) {
            meta->value.RemoveMember("managedFields");
        }
        out.raw = to_json(object);
    }
    return out;
}

Object object_from_json(const Kind& kind, const std::string& json, bool keep_raw) {
    SizedDocument doc(json.size());
    if (const auto problem = parse_json_object(json, doc); !problem.empty()) {
        throw Error(fmt::format("expected a {}: {}", kind.name, problem));
    }
    return object_from_value(kind, doc, keep_raw);
}

std::string object_to_json(const Object& object) {
    if (object.sealed) {
        throw Error(fmt::format("{} {}/{}: digests of its values are not values (not sent)",
                                object.kind.name, object.namespace_name, object.name));
    }
    // raw holds no data: the pool takes the values too (base64 makes binary ones 4/3 longer).
    SizedDocument doc(object.raw.size() + object_data_size(object) * 4 / 3 +
                      64 * object.data.size());
    if (object.raw.empty() || !parse_json_object(object.raw, doc).empty()) {
        doc.SetObject();
    }
    auto& alloc = doc.GetAllocator();
    set_member(doc, "apiVersion", rapidjson::Value("v1"), alloc);
    set_member(doc, "kind",
               rapidjson::Value(object.kind.name.data(),
                                static_cast<rapidjson::SizeType>(object.kind.name.size())),
               alloc);
    if (!doc.HasMember("metadata") || !doc["metadata"].IsObject()) {
        set_member(doc, "metadata", rapidjson::Value(rapidjson::kObjectType), alloc);
    }
    auto& meta = doc["metadata"];
    set_member(meta, "name", rapidjson::Value(object.name, alloc), alloc);
    set_member(meta, "namespace", rapidjson::Value(object.namespace_name, alloc), alloc);
    set_member(meta, "resourceVersion",
               object.resource_version.empty() ? rapidjson::Value()
                                               : rapidjson::Value(object.resource_version, alloc),
               alloc);
    // managedFields are the server's bookkeeping; sending them back stale is rejected or
    // misattributes fields.
    meta.RemoveMember("managedFields");
    set_member(meta, "labels", string_object(object.labels, alloc), alloc);
    set_member(meta, "annotations", string_object(object.annotations, alloc), alloc);
    write_data(object, doc);
    set_member(doc, "immutable", object.immutable ? rapidjson::Value(true) : rapidjson::Value(),
               alloc);
    return to_json(doc);
}

std::size_t object_data_size(const Object& object) {
    std::size_t total = 0;
    for (const auto& [key, value] : object.data) {
        total += value.bytes.size();
    }
    return total;
}

}  // namespace cmsync::kube
