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

}  // namespace

RuleObject read_cluster_rule(const std::string& json) {
    rapidjson::Document doc;
    if (const auto problem = kube::parse_json_object(json, doc); !problem.empty()) {
        throw Error("expected a ClusterSyncRule: " + problem);
    }
    const auto* meta = kube::json_object(doc, "metadata");
    RuleObject out;
    out.json = json;
    out.name = meta != nullptr ? kube::json_string(*meta, "name") : std::string();
    if (out.name.empty()) {
        throw Error("expected a ClusterSyncRule: no metadata.name");
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
            rule.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a), a);
        }
    }
    rapidjson::Value rules(rapidjson::kArrayType);
    rules.PushBack(rule, a);
    config.AddMember("apiVersion", rapidjson::StringRef(kSyncConfigApiVersion), a);
    config.AddMember("kind", rapidjson::StringRef(kSyncConfigKind), a);
    config.AddMember("rules", rules, a);
    const auto file = "ClusterSyncRule " + out.name;
    auto parsed = parse_sync_config(kube::to_json(config), file);
    for (const auto& line : parsed.errors) {
        out.errors.push_back(spec_words(line, file));
    }
    if (out.errors.empty() && parsed.rules.size() == 1) {
        out.rule = std::move(parsed.rules.front());
        out.rule->where = file;
    }
    return out;
}

RuleSelection select_rules(const std::map<std::string, RuleObject>& objects) {
    std::vector<const RuleObject*> valid;
    for (const auto& [name, object] : objects) {
        if (object.rule) {
            valid.push_back(&object);
        }
    }
    // Oldest first (names break ties): each rule runs unless it overlaps one taken before it.
    std::sort(valid.begin(), valid.end(), [](const RuleObject* a, const RuleObject* b) {
        return std::tie(a->created, a->name) < std::tie(b->created, b->name);
    });
    RuleSelection out;
    for (const auto* object : valid) {
        out.rules.push_back(*object->rule);
        if (auto problems = check_rules(out.rules); !problems.empty()) {
            out.rules.pop_back();
            out.refused[object->name] = spec_words(problems.front(), object->rule->where);
        }
    }
    std::sort(out.rules.begin(), out.rules.end(),
              [](const Rule& a, const Rule& b) { return a.name < b.name; });
    return out;
}

}  // namespace cmsync::controller
