#include "sync/report_json.hpp"

namespace cmsync {

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
