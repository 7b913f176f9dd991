#include "controller/rule_objects.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <tuple>

#include "error.hpp"
#include "kube/json.hpp"

namespace cmsync::controller {

namespace {

// "FILE:LINE:COLUMN: rules[0].source: ..." of a one-rule document made of a spec, in the
// object's words: "spec.source: ...".
std::string spec_words(const std::string& line, const std::string& file) {
    auto text = line;
    if (text.rfind(file + ":", 0) == 0) {
        // FILE:LINE:COLUMN: -- the position is in a document made here: not the user's
        const auto after = text.find(": ", file.size());
        text = after == std::string::npos ? text : text.substr(after + 2);
    }
    for (const std::string prefix : {"rules[0].", "rules[0]:"}) {
        if (text.rfind(prefix, 0) == 0) {
            text = (prefix.back() == '.' ? "spec." : "spec:") + text.substr(prefix.size());
        }
    }
    return text;
}

std::vector<std::string> strings(const rapidjson::Value& object, const char* name) {
    std::vector<std::string> out;
    if (const auto it = object.FindMember(name); it != object.MemberEnd() && it->value.IsArray()) {
        for (const auto& item : it->value.GetArray()) {
            if (item.IsString()) {
                out.emplace_back(item.GetString(), item.GetStringLength());
            }
        }
    }
    return out;
}

// Reads a rule object; a SyncRule's source namespace is its own.
RuleObject read_rule(const std::string& json, bool namespaced) {
    const char* kind = namespaced ? "SyncRule" : "ClusterSyncRule";
    rapidjson::Document doc;
    if (const auto problem = kube::parse_json_object(json, doc); !problem.empty()) {
        throw Error(fmt::format("expected a {}: {}", kind, problem));
    }
    const auto* meta = kube::json_object(doc, "metadata");
    RuleObject out;
    out.namespaced = namespaced;
    out.json = json;
    out.name = meta != nullptr ? kube::json_string(*meta, "name") : std::string();
    out.namespace_name = meta != nullptr ? kube::json_string(*meta, "namespace") : std::string();
    if (out.name.empty() || (namespaced && out.namespace_name.empty())) {
        throw Error(fmt::format("expected a {}: no metadata.name{}", kind,
                                namespaced ? " and namespace" : ""));
    }
    out.created = kube::json_string(*meta, "creationTimestamp");
    if (const auto it = meta->FindMember("generation");
        it != meta->MemberEnd() && it->value.IsInt64()) {
        out.generation = it->value.GetInt64();
    }
    // The spec as the one rule of a rules file, named like the object.
    rapidjson::Document config(rapidjson::kObjectType);
    auto& a = config.GetAllocator();
    rapidjson::Value rule(rapidjson::kObjectType);
    rule.AddMember("name", rapidjson::Value(out.name, a), a);
    if (const auto spec = doc.FindMember("spec");
        spec != doc.MemberEnd() && spec->value.IsObject()) {
        for (auto& m : spec->value.GetObject()) {
            rapidjson::Value value(m.value, a);
            if (namespaced && std::string_view(m.name.GetString()) == "source" &&
                value.IsObject()) {
                if (value.HasMember("namespace")) {
                    out.errors.push_back(
                        "spec.source.namespace: a SyncRule's source is in its own namespace");
                    return out;
                }
                value.AddMember("namespace", rapidjson::Value(out.namespace_name, a), a);
            }
            rule.AddMember(rapidjson::Value(m.name, a), value, a);
        }
    }
    rapidjson::Value rules(rapidjson::kArrayType);
    rules.PushBack(rule, a);
    config.AddMember("apiVersion", rapidjson::StringRef(kSyncConfigApiVersion), a);
    config.AddMember("kind", rapidjson::StringRef(kSyncConfigKind), a);
    config.AddMember("rules", rules, a);
    const auto file = out.label();
    auto parsed = parse_sync_config(kube::to_json(config), file);
    for (const auto& line : parsed.errors) {
        out.errors.push_back(spec_words(line, file));
    }
    if (out.errors.empty() && parsed.rules.size() == 1) {
        out.rule = std::move(parsed.rules.front());
        out.rule->name = out.key();
        out.rule->where = file;
    }
    return out;
}

bool has(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

std::string RuleObject::status_path() const {
    return namespaced ? fmt::format("/apis/cmsync.io/v1alpha1/namespaces/{}/syncrules/{}/status",
                                    namespace_name, name)
                      : fmt::format("{}/{}/status", kClusterSyncRulesPath, name);
}

std::string RuleObject::label() const {
    return namespaced ? fmt::format("SyncRule {}/{}", namespace_name, name)
                      : fmt::format("ClusterSyncRule {}", name);
}

RuleObject read_cluster_rule(const std::string& json) {
    return read_rule(json, false);
}

RuleObject read_sync_rule(const std::string& json) {
    return read_rule(json, true);
}

Grant read_grant(const std::string& json) {
    Grant out;
    rapidjson::Document doc;
    if (!kube::parse_json_object(json, doc).empty()) {
        return out;
    }
    if (const auto* meta = kube::json_object(doc, "metadata")) {
        out.namespace_name = kube::json_string(*meta, "namespace");
    }
    const auto* spec = kube::json_object(doc, "spec");
    if (spec == nullptr) {
        return out;
    }
    if (const auto it = spec->FindMember("from"); it != spec->MemberEnd() && it->value.IsArray()) {
        for (const auto& entry : it->value.GetArray()) {
            if (!entry.IsObject()) {
                continue;
            }
            Grant::From from{kube::json_string(entry, "namespace"), strings(entry, "kinds"),
                             strings(entry, "names")};
            if (!from.namespace_name.empty()) {
                out.from.push_back(std::move(from));
            }
        }
    }
    return out;
}

GrantIndex::GrantIndex(const std::vector<Grant>& grants) {
    for (const auto& grant : grants) {
        for (const auto& from : grant.from) {
            by_source_[from.namespace_name].push_back({&grant.namespace_name, &from});
        }
    }
}

std::vector<std::string> granted_namespaces(const Rule& rule, const GrantIndex& grants) {
    const auto& spec = rule.spec;
    std::vector<std::string> out;
    const auto it = grants.by_source_.find(spec.source_namespace);
    if (it == grants.by_source_.end()) {
        return out;
    }
    for (const auto& entry : it->second) {
        const auto* from = entry.second;
        if (!from->kinds.empty() && !has(from->kinds, std::string(spec.kind.name))) {
            continue;
        }
        const auto& names = spec.selection.names;
        if (!from->names.empty() &&
            (names.empty() || !std::all_of(names.begin(), names.end(),
                                           [&](const auto& n) { return has(from->names, n); }))) {
            continue;
        }
        out.push_back(*entry.first);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> granted_namespaces(const Rule& rule, const std::vector<Grant>& grants) {
    return granted_namespaces(rule, GrantIndex(grants));
}

RuleSelection select_rules(const std::map<std::string, RuleObject>& objects,
                           const std::vector<Grant>& grants) {
    RuleSelection out;
    const GrantIndex grant_index(grants);
    std::vector<std::pair<const RuleObject*, Rule>> valid;
    for (const auto& [key, object] : objects) {
        if (!object.rule) {
            continue;
        }
        auto rule = *object.rule;
        if (object.namespaced) {
            rule.spec.granted_namespaces = granted_namespaces(rule, grant_index);
            std::vector<std::string> missing;
            for (const auto& ns : rule.spec.target_namespaces) {
                if (!has(*rule.spec.granted_namespaces, ns)) {
                    missing.push_back(ns);
                }
            }
            if (!missing.empty()) {
                out.not_granted[key] = std::move(missing);
            }
        }
        valid.emplace_back(&object, std::move(rule));
    }
    // Oldest first (keys break ties): each rule runs unless it overlaps one taken before it.
    std::sort(valid.begin(), valid.end(), [](const auto& a, const auto& b) {
        return std::tuple(a.first->created, a.first->key()) <
               std::tuple(b.first->created, b.first->key());
    });
    RuleChecks checks;
    for (const auto& [object, rule] : valid) {
        if (auto problems = checks.add(rule, false); !problems.empty()) {
            out.refused[object->key()] = spec_words(problems.front(), rule.where);
            continue;
        }
        out.rules.push_back(rule);
    }
    std::sort(out.rules.begin(), out.rules.end(),
              [](const Rule& a, const Rule& b) { return a.name < b.name; });
    return out;
}

}  // namespace cmsync::controller
