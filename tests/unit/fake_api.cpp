#include "fake_api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "util/sha256.hpp"

namespace cmsync {

namespace {

constexpr const char* kServer = "https://s";

using Strings = std::map<std::string, std::string>;

std::string text(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return buffer.GetString();
}

rapidjson::Document parse(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        doc.SetObject();
    }
    return doc;
}

Strings string_map(const rapidjson::Value& object, const char* member) {
    Strings out;
    const auto it = object.FindMember(member);
    if (it != object.MemberEnd() && it->value.IsObject()) {
        for (const auto& m : it->value.GetObject()) {
            if (m.value.IsString()) {
                out[m.name.GetString()] = m.value.GetString();
            }
        }
    }
    return out;
}

const rapidjson::Value& metadata(const rapidjson::Document& doc) {
    static const rapidjson::Value kEmpty(rapidjson::kObjectType);
    const auto it = doc.FindMember("metadata");
    return it != doc.MemberEnd() && it->value.IsObject() ? it->value : kEmpty;
}

std::string meta_string(const rapidjson::Document& doc, const char* member) {
    const auto& meta = metadata(doc);
    const auto it = meta.FindMember(member);
    return it != meta.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

void set_meta(rapidjson::Document& doc, const char* member, const std::string& value) {
    auto& a = doc.GetAllocator();
    if (!doc.HasMember("metadata") || !doc["metadata"].IsObject()) {
        doc.RemoveMember("metadata");
        doc.AddMember("metadata", rapidjson::Value(rapidjson::kObjectType), a);
    }
    auto& meta = doc["metadata"];
    meta.RemoveMember(member);
    meta.AddMember(rapidjson::Value(member, a), rapidjson::Value(value.c_str(), a), a);
}

rapidjson::Value object_of(const Strings& values, rapidjson::Document::AllocatorType& a) {
    rapidjson::Value out(rapidjson::kObjectType);
    for (const auto& [k, v] : values) {
        out.AddMember(rapidjson::Value(k.c_str(), a), rapidjson::Value(v.c_str(), a), a);
    }
    return out;
}

std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string part;
    std::istringstream in(s);
    while (std::getline(in, part, sep)) {
        out.push_back(part);
    }
    return out;
}

// Equality requirements only ("k=v", "k==v") and existence ("k"): what the tests send.
bool labels_match(const std::string& selector, const Strings& labels) {
    for (const auto& requirement : split(selector, ',')) {
        const auto eq = requirement.find('=');
        if (eq == std::string::npos) {
            if (labels.count(requirement) == 0) {
                return false;
            }
            continue;
        }
        const auto key = requirement.substr(0, eq);
        auto value = requirement.substr(eq + 1);
        if (!value.empty() && value[0] == '=') {
            value.erase(0, 1);
        }
        const auto it = labels.find(key);
        if (it == labels.end() || it->second != value) {
            return false;
        }
    }
    return true;
}

bool fields_match(const std::string& selector, const std::string& ns, const std::string& name) {
    for (const auto& requirement : split(selector, ',')) {
        if (requirement == "metadata.name=" + name || requirement == "metadata.namespace=" + ns) {
            continue;
        }
        return false;
    }
    return true;
}

// One page of `items` (already filtered) from the offset in continue=pN, `limit` long.
http::Response page(const std::string& list_kind, const std::vector<std::string>& items,
                    const Strings& query, long version) {
    std::size_t offset = 0;
    if (const auto it = query.find("continue"); it != query.end()) {
        offset = std::stoul(it->second.substr(1));
    }
    std::size_t limit = items.size();
    if (const auto it = query.find("limit"); it != query.end()) {
        limit = std::stoul(it->second);
    }
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("kind", rapidjson::Value(list_kind.c_str(), a), a);
    doc.AddMember("apiVersion", "v1", a);
    rapidjson::Value meta(rapidjson::kObjectType);
    meta.AddMember("resourceVersion", rapidjson::Value(std::to_string(version).c_str(), a), a);
    const auto end = std::min(items.size(), offset + limit);
    if (end < items.size()) {
        meta.AddMember("continue", rapidjson::Value(("p" + std::to_string(end)).c_str(), a), a);
        meta.AddMember("remainingItemCount", static_cast<int64_t>(items.size() - end), a);
    }
    doc.AddMember("metadata", meta, a);
    rapidjson::Value array(rapidjson::kArrayType);
    for (std::size_t i = offset; i < end; ++i) {
        auto item = parse(items[i]);
        item.RemoveMember("apiVersion");  // list items carry neither
        item.RemoveMember("kind");
        array.PushBack(rapidjson::Value(item, a), a);
    }
    doc.AddMember("items", array, a);
    return {200, {}, text(doc)};
}

std::string kind_of(const std::string& resource) {
    return resource == "secrets" ? "Secret" : "ConfigMap";
}

}  // namespace

http::Response status(long code, const std::string& reason, const std::string& message) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("kind", "Status", a);
    doc.AddMember("apiVersion", "v1", a);
    doc.AddMember("status", "Failure", a);
    doc.AddMember("message", rapidjson::Value(message.c_str(), a), a);
    doc.AddMember("reason", rapidjson::Value(reason.c_str(), a), a);
    doc.AddMember("code", static_cast<int64_t>(code), a);
    return {code, {}, text(doc)};
}

std::string configmap_json(const std::string& ns, const std::string& name, const Strings& data,
                           const Strings& labels, const Strings& annotations) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("apiVersion", "v1", a);
    doc.AddMember("kind", "ConfigMap", a);
    rapidjson::Value meta(rapidjson::kObjectType);
    meta.AddMember("name", rapidjson::Value(name.c_str(), a), a);
    meta.AddMember("namespace", rapidjson::Value(ns.c_str(), a), a);
    if (!labels.empty()) {
        meta.AddMember("labels", object_of(labels, a), a);
    }
    if (!annotations.empty()) {
        meta.AddMember("annotations", object_of(annotations, a), a);
    }
    doc.AddMember("metadata", meta, a);
    doc.AddMember("data", object_of(data, a), a);
    return text(doc);
}

std::string copy_json(const std::string& ns, const std::string& name, const std::string& from,
                      const Strings& data, const Strings& synced) {
    rapidjson::Document hashes(rapidjson::kObjectType);
    auto& a = hashes.GetAllocator();
    for (const auto& [key, value] : synced) {
        hashes.AddMember(rapidjson::Value(key.c_str(), a),
                         rapidjson::Value(sha256_hex(value).c_str(), a), a);
    }
    return configmap_json(ns, name, data, {{"cmsync.io/managed", "true"}},
                          {{"cmsync.io/sync-from", from}, {"cmsync.io/last-synced", text(hashes)}});
}

void FakeApi::add(const std::string& resource, const std::string& json) {
    std::lock_guard lock(mutex_);
    auto doc = parse(json);
    const auto ns = meta_string(doc, "namespace");
    if (meta_string(doc, "resourceVersion").empty()) {
        set_meta(doc, "resourceVersion", std::to_string(next_version_++));
    }
    namespaces_.try_emplace(ns);
    objects_[resource + "/" + ns + "/" + meta_string(doc, "name")] = text(doc);
}

void FakeApi::add_namespace(const std::string& name, const Strings& labels) {
    std::lock_guard lock(mutex_);
    namespaces_[name] = labels;
}

void FakeApi::remove(const std::string& resource, const std::string& ns, const std::string& name) {
    std::lock_guard lock(mutex_);
    objects_.erase(resource + "/" + ns + "/" + name);
}

std::optional<FakeApi::Stored> FakeApi::stored(const std::string& resource, const std::string& ns,
                                               const std::string& name) const {
    std::lock_guard lock(mutex_);
    const auto it = objects_.find(resource + "/" + ns + "/" + name);
    if (it == objects_.end()) {
        return std::nullopt;
    }
    const auto doc = parse(it->second);
    const auto& meta = metadata(doc);
    return Stored{meta_string(doc, "resourceVersion"), string_map(meta, "labels"),
                  string_map(meta, "annotations"), string_map(doc, "data")};
}

void FakeApi::script(const std::string& line, http::Response response) {
    std::lock_guard lock(mutex_);
    scripted_[line].push_back(std::move(response));
}

void FakeApi::fail(const std::string& method, const std::string& path, http::Response response) {
    std::lock_guard lock(mutex_);
    failing_[method + " " + path] = std::move(response);
}

void FakeApi::expire(const std::string& token, std::function<void(FakeApi&)> meanwhile) {
    std::lock_guard lock(mutex_);
    if (!meanwhile) {
        meanwhile = [](FakeApi&) {};
    }
    expiring_[token] = std::move(meanwhile);
}

std::vector<std::string> FakeApi::lines() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [line, body] : requests_) {
        out.push_back(line);
    }
    return out;
}

std::vector<std::string> FakeApi::sorted_lines() const {
    auto out = lines();
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> FakeApi::write_lines() const {
    auto out = lines();
    std::erase_if(out, [](const std::string& line) { return line.rfind("GET ", 0) == 0; });
    return out;
}

std::vector<std::string> FakeApi::unexpected() const {
    std::lock_guard lock(mutex_);
    return unexpected_;
}

std::string FakeApi::body_of(const std::string& line) const {
    std::lock_guard lock(mutex_);
    for (const auto& [l, body] : requests_) {
        if (l == line) {
            return body;
        }
    }
    return "";
}

http::Response FakeApi::stream(const http::Request& request, const http::BodySink&,
                               const http::CancelCheck&) {
    std::lock_guard lock(mutex_);
    unexpected_.push_back("watch: " + request.url);
    return status(500, "InternalError", "the fake serves no watches");
}

http::Response FakeApi::send(const http::Request& request) {
    std::lock_guard lock(mutex_);
    if (request.url.rfind(kServer, 0) != 0) {
        unexpected_.push_back("server: " + request.url);
        return status(500, "InternalError", "another server");
    }
    const auto target = request.url.substr(std::string(kServer).size());
    const auto line = request.method + " " + target;
    requests_.emplace_back(line, request.body);
    if (auto it = scripted_.find(line); it != scripted_.end() && !it->second.empty()) {
        auto response = it->second.front();
        it->second.erase(it->second.begin());
        return response;
    }
    const auto question = target.find('?');
    const auto path = target.substr(0, question);
    if (const auto it = failing_.find(request.method + " " + path); it != failing_.end()) {
        return it->second;
    }
    Strings query;
    if (question != std::string::npos) {
        for (const auto& pair : split(target.substr(question + 1), '&')) {
            const auto eq = pair.find('=');
            query[pair.substr(0, eq)] =
                eq == std::string::npos ? "" : unescape(pair.substr(eq + 1));
        }
    }
    auto response = answer(request.method, path, query, request.body);
    if (response.status == 500) {
        unexpected_.push_back(line);
    }
    return response;
}

http::Response FakeApi::answer(const std::string& method, const std::string& path,
                               const Strings& query, const std::string& body) {
    const auto parts = split(path.substr(1), '/');  // "api", "v1", ...
    if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") {
        return status(500, "InternalError", "no route");
    }
    if (parts[2] == "namespaces" && parts.size() == 3 && method == "GET") {
        return list_namespaces(query);
    }
    if (parts[2] == "namespaces" && parts.size() == 4 && method == "GET") {
        if (namespaces_.count(parts[3]) == 0) {
            return status(404, "NotFound", "namespaces \"" + parts[3] + "\" not found");
        }
        return {
            200,
            {},
            R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":")" + parts[3] + R"("}})"};
    }
    if (parts.size() == 3 && method == "GET") {
        return list(parts[2], "", query);  // all namespaces
    }
    if (parts[2] != "namespaces" || parts.size() < 5) {
        return status(500, "InternalError", "no route");
    }
    const auto& ns = parts[3];
    const auto& resource = parts[4];
    if (parts.size() == 5 && method == "GET") {
        return list(resource, ns, query);
    }
    if (parts.size() == 6 && method == "GET") {
        const auto it = objects_.find(resource + "/" + ns + "/" + parts[5]);
        if (it == objects_.end()) {
            return status(404, "NotFound", resource + " \"" + parts[5] + "\" not found");
        }
        return {200, {}, it->second};
    }
    return write(method, resource, ns, parts.size() == 6 ? parts[5] : "", query, body);
}

http::Response FakeApi::list(const std::string& resource, const std::string& ns,
                             const Strings& query) {
    if (const auto it = query.find("continue"); it != query.end()) {
        if (const auto exp = expiring_.find(it->second); exp != expiring_.end()) {
            const auto meanwhile = exp->second;
            expiring_.erase(exp);
            meanwhile(*this);
            return status(410, "Expired", "The provided continue parameter is too old");
        }
    }
    for (const auto& [key, value] : query) {
        if (key != "limit" && key != "continue" && key != "labelSelector" &&
            key != "fieldSelector") {
            return status(500, "InternalError", "unknown query parameter " + key);
        }
    }
    const auto labels = query.count("labelSelector") ? query.at("labelSelector") : "";
    const auto fields = query.count("fieldSelector") ? query.at("fieldSelector") : "";
    std::vector<std::string> items;
    for (const auto& [key, json] : objects_) {
        if (key.rfind(resource + "/", 0) != 0) {
            continue;
        }
        const auto doc = parse(json);
        const auto object_ns = meta_string(doc, "namespace");
        if ((!ns.empty() && object_ns != ns) ||
            !labels_match(labels, string_map(metadata(doc), "labels")) ||
            !fields_match(fields, object_ns, meta_string(doc, "name"))) {
            continue;
        }
        items.push_back(json);
    }
    return page(kind_of(resource) + "List", items, query, next_version_);
}

http::Response FakeApi::list_namespaces(const Strings& query) {
    const auto labels = query.count("labelSelector") ? query.at("labelSelector") : "";
    std::vector<std::string> items;
    for (const auto& [name, namespace_labels] : namespaces_) {
        if (labels_match(labels, namespace_labels)) {
            rapidjson::Document doc(rapidjson::kObjectType);
            auto& a = doc.GetAllocator();
            rapidjson::Value meta(rapidjson::kObjectType);
            meta.AddMember("name", rapidjson::Value(name.c_str(), a), a);
            meta.AddMember("labels", object_of(namespace_labels, a), a);
            doc.AddMember("metadata", meta, a);
            items.push_back(text(doc));
        }
    }
    return page("NamespaceList", items, query, next_version_);
}

http::Response FakeApi::write(const std::string& method, const std::string& resource,
                              const std::string& ns, const std::string& name, const Strings& query,
                              const std::string& body) {
    const auto key = resource + "/" + ns + "/";
    const auto found = objects_.find(key + name);
    if (method == "DELETE" && !name.empty()) {
        if (!query.empty()) {
            return status(500, "InternalError", "a delete takes its options in the body");
        }
        if (found == objects_.end()) {
            return status(404, "NotFound", resource + " \"" + name + "\" not found");
        }
        const auto options = parse(body);
        const auto pre = options.FindMember("preconditions");
        if (pre != options.MemberEnd() && pre->value.IsObject() &&
            pre->value.HasMember("resourceVersion") && pre->value["resourceVersion"].IsString() &&
            pre->value["resourceVersion"].GetString() !=
                meta_string(parse(found->second), "resourceVersion")) {
            return status(409, "Conflict", "the resourceVersion precondition failed");
        }
        if (!options.HasMember("dryRun")) {
            objects_.erase(found);
        }
        return {200, {}, R"({"kind":"Status","apiVersion":"v1","status":"Success"})"};
    }
    if (query.size() > 2 || query.count("fieldManager") == 0 ||
        query.at("fieldManager") != "kubectl-cmsync" ||
        (query.size() == 2 && (query.count("dryRun") == 0 || query.at("dryRun") != "All"))) {
        return status(500, "InternalError", "writes need fieldManager (and only dryRun=All)");
    }
    const bool dry_run = query.count("dryRun") != 0;
    auto doc = parse(body);
    const auto object_name = meta_string(doc, "name");
    if (method == "POST" && name.empty()) {
        if (namespaces_.count(ns) == 0) {
            return status(404, "NotFound", "namespaces \"" + ns + "\" not found");
        }
        if (objects_.count(key + object_name) != 0) {
            return status(409, "AlreadyExists",
                          resource + " \"" + object_name + "\" already exists");
        }
        set_meta(doc, "resourceVersion", std::to_string(dry_run ? 0 : next_version_++));
        set_meta(doc, "uid", "uid-" + object_name);
        if (!dry_run) {
            objects_[key + object_name] = text(doc);
        }
        return {201, {}, text(doc)};
    }
    if (method == "PUT" && !name.empty() && object_name == name) {
        if (found == objects_.end()) {
            return status(404, "NotFound", resource + " \"" + name + "\" not found");
        }
        if (meta_string(doc, "resourceVersion") !=
            meta_string(parse(found->second), "resourceVersion")) {
            return status(409, "Conflict", "the object has been modified");
        }
        if (!dry_run) {
            set_meta(doc, "resourceVersion", std::to_string(next_version_++));
            found->second = text(doc);
        }
        return {200, {}, text(doc)};
    }
    return status(500, "InternalError", "no route");
}

}  // namespace cmsync
