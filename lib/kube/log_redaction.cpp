#include "kube/log_redaction.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <string_view>

#include "kube/json.hpp"
#include "kube/kind.hpp"

namespace cmsync::kube {

namespace {

constexpr const char* kMask = "***";
constexpr const char* kLastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

// The kind a request path names: the segment after /api/v1/ or /api/v1/namespaces/NS/.
std::optional<Kind> kind_of_url(std::string_view url) {
    const auto at = url.find("/api/v1/");
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    auto path = url.substr(at + 8);
    path = path.substr(0, path.find_first_of("?#"));
    if (path.rfind("namespaces/", 0) == 0) {
        const auto slash = path.find('/', 11);
        if (slash == std::string_view::npos) {
            return std::nullopt;
        }
        path = path.substr(slash + 1);
    }
    return kind_named(path.substr(0, path.find('/')));
}

void mask_members(rapidjson::Value& object, const char* field) {
    const auto it = object.FindMember(field);
    if (it == object.MemberEnd() || !it->value.IsObject()) {
        return;
    }
    for (auto& m : it->value.GetObject()) {
        m.value.SetString(rapidjson::StringRef(kMask));
    }
}

void mask_string(rapidjson::Value& object, const char* field) {
    if (const auto it = object.FindMember(field); it != object.MemberEnd()) {
        it->value.SetString(rapidjson::StringRef(kMask));
    }
}

// An error Status answered to a request of a sensitive kind: its message and each cause's
// may echo values (see kube::status_message); the fields and reasons stay.
void mask_status(rapidjson::Value& status) {
    mask_string(status, "message");
    if (const auto details = status.FindMember("details");
        details != status.MemberEnd() && details->value.IsObject()) {
        if (const auto causes = details->value.FindMember("causes");
            causes != details->value.MemberEnd() && causes->value.IsArray()) {
            for (auto& cause : causes->value.GetArray()) {
                if (cause.IsObject()) {
                    mask_string(cause, "message");
                }
            }
        }
    }
}

void mask_object(rapidjson::Value& object, const std::vector<std::string_view>& derived) {
    if (!object.IsObject()) {
        return;
    }
    if (json_string(object, "kind") == "Status") {
        mask_status(object);
        return;
    }
    mask_members(object, "data");
    mask_members(object, "stringData");
    if (const auto meta = object.FindMember("metadata");
        meta != object.MemberEnd() && meta->value.IsObject()) {
        if (const auto notes = meta->value.FindMember("annotations");
            notes != meta->value.MemberEnd() && notes->value.IsObject()) {
            for (const auto name : derived) {
                const auto h = notes->value.FindMember(
                    rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
                if (h != notes->value.MemberEnd()) {
                    h->value.SetString(rapidjson::StringRef(kMask));
                }
            }
            // `kubectl apply` keeps the whole object it applied here, data included (kubectl
            // describe skips it for that reason).
            mask_string(notes->value, kLastAppliedAnnotation);
        }
    }
}

}  // namespace

std::string redact_body_for_log(const std::string& url, const std::string& body,
                                const std::vector<std::string_view>& derived) {
    const auto kind = kind_of_url(url);
    if (!kind || !kind->sensitive) {
        return body;
    }
    SizedDocument doc(body.size());
    if (!parse_json_object(body, doc).empty()) {
        return fmt::format("({} bytes withheld: {} values are not logged)", body.size(),
                           kind->name);
    }
    mask_object(doc, derived);
    if (const auto items = doc.FindMember("items");
        items != doc.MemberEnd() && items->value.IsArray()) {
        for (auto& item : items->value.GetArray()) {
            mask_object(item, derived);
        }
    }
    if (const auto object = doc.FindMember("object"); object != doc.MemberEnd()) {
        mask_object(object->value, derived);  // a watch event
    }
    return to_json(doc);
}

}  // namespace cmsync::kube
