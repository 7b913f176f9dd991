#include "kube/watch_event.hpp"

#include <rapidjson/document.h>

#include "error.hpp"
#include "kube/api_error.hpp"
#include "kube/json.hpp"

namespace cmsync::kube {

WatchEvent parse_watch_event(const std::string& json, const Kind* kind, bool keep_json) {
    SizedDocument doc(json.size());
    if (const auto problem = parse_json_object(json, doc); !problem.empty()) {
        throw Error("expected a watch event: " + problem);
    }
    const auto type = json_string(doc, "type");
    WatchEvent event;
    if (type == "ADDED") {
        event.type = WatchEventType::added;
    } else if (type == "MODIFIED") {
        event.type = WatchEventType::modified;
    } else if (type == "DELETED") {
        event.type = WatchEventType::deleted;
    } else if (type == "BOOKMARK") {
        event.type = WatchEventType::bookmark;
    } else if (type == "ERROR") {
        event.type = WatchEventType::error;
    } else {
        throw Error("expected a watch event: unknown type \"" + type + "\"");
    }
    const auto* object = json_object(doc, "object");
    if (object == nullptr) {
        throw Error("expected a watch event: no object");
    }
    if (event.type == WatchEventType::error) {
        if (const auto it = object->FindMember("code");
            it != object->MemberEnd() && it->value.IsInt()) {
            event.error_code = it->value.GetInt();
        }
        event.error_reason = json_string(*object, "reason");
        event.error_message = status_message(*object, kind != nullptr && kind->sensitive);
        return event;
    }
    if (const auto* meta = json_object(*object, "metadata")) {
        event.resource_version = json_string(*meta, "resourceVersion");
        event.namespace_name = json_string(*meta, "namespace");
        event.name = json_string(*meta, "name");
        if (const auto* labels = json_object(*meta, "labels")) {
            for (const auto& m : labels->GetObject()) {
                if (m.value.IsString()) {
                    event.labels.emplace(m.name.GetString(), m.value.GetString());
                }
            }
        }
    }
    if (kind != nullptr && event.type != WatchEventType::bookmark) {
        event.object = object_from_value(*kind, doc.FindMember("object")->value, true);
    } else if (keep_json && event.type != WatchEventType::bookmark) {
        event.object_json = to_json(*object);
    }
    return event;
}

}  // namespace cmsync::kube
