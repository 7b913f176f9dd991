#include "report/report_json.hpp"

#include "kube/json.hpp"

namespace cmsync {

rapidjson::Value target_json(const TargetOutcome& o, rapidjson::Document::AllocatorType& a) {
    rapidjson::Value t(rapidjson::kObjectType);
    t.AddMember("source", rapidjson::Value(o.source_text(), a), a);
    if (!o.cluster.empty()) {
        t.AddMember("cluster", rapidjson::Value(o.cluster, a), a);
    }
    t.AddMember("namespace", rapidjson::Value(o.target.namespace_name, a), a);
    t.AddMember("name", rapidjson::Value(o.target.name, a), a);
    return t;
}

rapidjson::Value key_plan_json(const KeyPlan& k, rapidjson::Document::AllocatorType& a) {
    rapidjson::Value key(rapidjson::kObjectType);
    key.AddMember("key", rapidjson::Value(k.key, a), a);
    key.AddMember("change", rapidjson::StringRef(to_string(k.action)), a);
    if (!k.reason.empty()) {
        key.AddMember("reason", rapidjson::Value(k.reason, a), a);
    }
    if (k.forced) {
        key.AddMember("forced", true, a);
    }
    return key;
}

void add_warnings_json(rapidjson::Value& object, const std::vector<std::string>& warnings,
                       rapidjson::Document::AllocatorType& a) {
    if (warnings.empty()) {
        return;
    }
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& w : warnings) {
        list.PushBack(rapidjson::Value(w, a), a);
    }
    object.AddMember("warnings", list, a);
}

}  // namespace cmsync

namespace cmsync {

std::string render_rules_json(const std::vector<RuleReport>& rules) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& rule : rules) {
        rapidjson::Value r(rapidjson::kObjectType);
        r.AddMember("name", rapidjson::Value(rule.name, a), a);
        r.AddMember("error",
                    rule.error.empty() ? rapidjson::Value() : rapidjson::Value(rule.error, a), a);
        rapidjson::Document part;
        if (!rule.json.empty() && kube::parse_json_object(rule.json, part).empty()) {
            for (auto& member : part.GetObject()) {
                r.AddMember(rapidjson::Value(member.name, a), rapidjson::Value(member.value, a), a);
            }
        }
        list.PushBack(r, a);
    }
    doc.AddMember("rules", list, a);
    return kube::to_json(doc) + "\n";
}

}  // namespace cmsync
