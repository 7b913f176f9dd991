#include "controller/event.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "kube/json.hpp"
#include "kube/lease.hpp"

namespace cmsync::controller {

namespace {

using rapidjson::Value;

Value str(std::string_view text, rapidjson::Document::AllocatorType& a) {
    return Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), a);
}

Value series(int count, EventTime last_observed, rapidjson::Document::AllocatorType& a) {
    Value out(rapidjson::kObjectType);
    out.AddMember("count", count, a);
    out.AddMember("lastObservedTime", str(format_micro_time(last_observed), a), a);
    return out;
}

}  // namespace

std::string format_micro_time(EventTime time) {
    return kube::micro_time(
        std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
}

std::string truncate_utf8(std::string_view text, std::size_t max) {
    if (text.size() <= max) {
        return std::string(text);
    }
    std::size_t cut = max >= 3 ? max - 3 : 0;
    // Back off continuation bytes (10xxxxxx) so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return std::string(text.substr(0, cut)) + std::string("...").substr(0, max - cut);
}

std::string event_name(std::string_view object_name, std::string_view suffix) {
    const auto room = kMaxEventName - suffix.size() - 1;
    auto base = object_name.substr(0, room);
    // A DNS subdomain's labels end in an alphanumeric character.
    while (!base.empty() && (base.back() == '.' || base.back() == '-')) {
        base.remove_suffix(1);
    }
    return fmt::format("{}.{}", base, suffix);
}

std::string event_json(const EventObject& event) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    const auto& o = event.occurrence;
    Value metadata(rapidjson::kObjectType);
    metadata.AddMember("name", str(event.name, a), a);
    metadata.AddMember("namespace", str(o.regarding.namespace_name, a), a);
    Value regarding(rapidjson::kObjectType);
    regarding.AddMember("apiVersion", "v1", a);
    regarding.AddMember(
        "kind", rapidjson::StringRef(o.regarding.kind.name.data(), o.regarding.kind.name.size()),
        a);
    regarding.AddMember("namespace", str(o.regarding.namespace_name, a), a);
    regarding.AddMember("name", str(o.regarding.name, a), a);
    if (!o.regarding.uid.empty()) {
        regarding.AddMember("uid", str(o.regarding.uid, a), a);
    }
    if (!o.regarding.resource_version.empty()) {
        regarding.AddMember("resourceVersion", str(o.regarding.resource_version, a), a);
    }
    doc.AddMember("apiVersion", "events.k8s.io/v1", a);
    doc.AddMember("kind", "Event", a);
    doc.AddMember("metadata", metadata, a);
    doc.AddMember("eventTime", str(format_micro_time(event.event_time), a), a);
    doc.AddMember("reportingController", str(kReportingController, a), a);
    doc.AddMember("reportingInstance",
                  str(truncate_utf8(event.reporting_instance, kMaxShortField), a), a);
    doc.AddMember("action", str(truncate_utf8(o.action, kMaxShortField), a), a);
    doc.AddMember("reason", str(truncate_utf8(o.reason, kMaxShortField), a), a);
    doc.AddMember("regarding", regarding, a);
    doc.AddMember("note", str(truncate_utf8(o.note, kMaxNote), a), a);
    doc.AddMember("type", rapidjson::StringRef(o.type == EventType::warning ? "Warning" : "Normal"),
                  a);
    if (event.count >= 2) {
        doc.AddMember("series", series(event.count, event.last_observed, a), a);
    }
    return kube::to_json(doc);
}

std::string series_patch_json(int count, EventTime last_observed) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("series", series(count, last_observed, a), a);
    return kube::to_json(doc);
}

}  // namespace cmsync::controller
