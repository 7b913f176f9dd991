#include "plan/ownership.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <vector>

#include "kube/json.hpp"
#include "util/sha256.hpp"

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

std::string sync_from_cluster(const kube::Object& copy) {
    const auto it = copy.annotations.find(kSyncFromClusterAnnotation);
    return it == copy.annotations.end() ? std::string() : it->second;
}

bool copy_of(const kube::Object& copy, const kube::ObjectRef& source, const std::string& cluster) {
    return sync_from(copy) == source && sync_from_cluster(copy) == cluster;
}

std::string sync_from_text(const kube::ObjectRef& source) {
    return source.str();
}

std::string owner_text(const kube::Object& copy) {
    const auto it = copy.annotations.find(kSyncFromAnnotation);
    if (it == copy.annotations.end() || it->second.empty()) {
        return {};
    }
    const auto cluster = sync_from_cluster(copy);
    return (cluster.empty() ? "" : cluster + "/") + it->second;
}

void set_sync_from(kube::Object& desired, const kube::ObjectRef& source,
                   const std::string& cluster) {
    desired.annotations[kSyncFromAnnotation] = sync_from_text(source);
    if (cluster.empty()) {
        desired.annotations.erase(kSyncFromClusterAnnotation);
    } else {
        desired.annotations[kSyncFromClusterAnnotation] = cluster;
    }
}

namespace {

// The managed-keys annotation: a JSON array of strings; nothing when it is not one.
std::optional<std::vector<std::string>> parse_managed_keys(const std::string& text) {
    kube::SizedDocument doc(text.size());
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsArray()) {
        return std::nullopt;
    }
    std::vector<std::string> keys;
    for (const auto& v : doc.GetArray()) {
        if (!v.IsString()) {
            return std::nullopt;
        }
        keys.emplace_back(v.GetString(), v.GetStringLength());
    }
    return keys;
}

std::string format_managed_keys(const KeyHashes& hashes) {
    rapidjson::Document doc(rapidjson::kArrayType);
    auto& a = doc.GetAllocator();
    for (const auto& [key, hash] : hashes) {
        doc.PushBack(rapidjson::Value(key, a), a);
    }
    return kube::to_json(doc);
}

}  // namespace

std::string unreadable_record(const kube::Kind& kind, bool or_missing) {
    return fmt::format("annotation {} is {}not {}",
                       kind.sensitive ? kManagedKeysAnnotation : kLastSyncedAnnotation,
                       or_missing ? "missing or " : "",
                       kind.sensitive ? "a JSON array of keys" : "a JSON object of hashes");
}

WriteRecord write_record(const kube::Object& copy) {
    WriteRecord out;
    const char* name = copy.kind.sensitive ? kManagedKeysAnnotation : kLastSyncedAnnotation;
    const auto it = copy.annotations.find(name);
    if (it == copy.annotations.end()) {
        return out;
    }
    out.present = true;
    if (!copy.kind.sensitive) {
        out.hashes = parse_last_synced(it->second);
        if (!out.hashes) {
            out.problem = unreadable_record(copy.kind, false);
        }
        return out;
    }
    const auto keys = parse_managed_keys(it->second);
    if (!keys) {
        out.problem = unreadable_record(copy.kind, false);
        return out;
    }
    KeyHashes hashes;
    for (const auto& key : *keys) {
        const auto value = copy.data.find(key);
        const bool set_by_cmsync = value != copy.data.end() && copy.owns(key);
        hashes[key] = set_by_cmsync ? sha256_hex(value->second.bytes) : kSetByAnother;
    }
    out.hashes = std::move(hashes);
    return out;
}

void set_write_record(kube::Object& desired, const KeyHashes& next) {
    if (desired.kind.sensitive) {
        desired.annotations[kManagedKeysAnnotation] = format_managed_keys(next);
    } else {
        desired.annotations[kLastSyncedAnnotation] = format_last_synced(next);
    }
}

void erase_write_record(kube::Object& desired) {
    desired.annotations.erase(kLastSyncedAnnotation);
    desired.annotations.erase(kManagedKeysAnnotation);
}

bool record_changes(const kube::Kind& kind, const KeyHashes& read, const KeyHashes& next) {
    if (!kind.sensitive) {
        return read != next;
    }
    return !std::equal(read.begin(), read.end(), next.begin(), next.end(),
                       [](const auto& a, const auto& b) { return a.first == b.first; });
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
