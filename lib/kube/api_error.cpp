#include "kube/api_error.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <utility>
#include <vector>

#include "kube/json.hpp"

namespace cmsync::kube {

namespace {

std::string first_line(const std::string& text, std::size_t max = 300) {
    auto line = text.substr(0, text.find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    if (line.size() > max) {
        line = line.substr(0, max) + "...";
    }
    return line;
}

std::string status_text(long code) {
    switch (code) {
        case 400:
            return "bad request";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not found";
        case 409:
            return "conflict";
        case 410:
            return "gone";
        case 422:
            return "invalid";
        case 429:
            return "too many requests";
        case 500:
            return "internal server error";
        case 503:
            return "service unavailable";
        default:
            return fmt::format("HTTP {}", code);
    }
}

// The words the API server uses for a cause's type (apimachinery field.ErrorType.String()).
std::string cause_type_text(const std::string& type) {
    static const std::pair<const char*, const char*> kWords[] = {
        {"FieldValueNotFound", "Not found"},
        {"FieldValueRequired", "Required value"},
        {"FieldValueDuplicate", "Duplicate value"},
        {"FieldValueInvalid", "Invalid value"},
        {"FieldValueNotSupported", "Unsupported value"},
        {"FieldValueForbidden", "Forbidden"},
        {"FieldValueTooLong", "Too long"},
        {"FieldValueTooMany", "Too many"},
        {"InternalError", "Internal error"},
        {"FieldValueTypeInvalid", "Invalid value"},
    };
    for (const auto& [cause, words] : kWords) {
        if (type == cause) {
            return words;
        }
    }
    // Another cause type: a webhook may send any text here.
    return "invalid";
}

// Whether `text` can only be a name, a key or a field path: DNS names, config keys and paths
// such as `metadata.annotations[kubernetes.io/service-account.name]`; never quotes or spaces.
bool name_like(const std::string& text, std::size_t max = 512) {
    return !text.empty() && text.size() <= max &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) {
               return std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_' || c == '/' ||
                      c == '[' || c == ']';
           });
}

// The detail of a cause message ("TYPE[: VALUE]: DETAIL") when it is one the server words
// without a value: immutability and the size limit.
std::string safe_detail(const std::string& message) {
    static const std::regex kSafe(
        R"(: (field is immutable|field is immutable when `immutable` is set|)"
        R"((must have at most|may not be more than|may not be longer than) [0-9]+ bytes)$)");
    std::smatch m;
    if (std::regex_search(message, m, kSafe)) {
        return m[1].str();
    }
    return {};
}

// A sensitive kind's error Status, rebuilt from its causes: see status_message.
std::string rebuilt_message(const rapidjson::Value& status) {
    const auto* details = json_object(status, "details");
    std::vector<std::string> causes;
    const auto list = details != nullptr ? details->FindMember("causes") : status.MemberEnd();
    if (details != nullptr && list != details->MemberEnd() && list->value.IsArray()) {
        for (const auto& cause : list->value.GetArray()) {
            if (!cause.IsObject()) {
                continue;
            }
            const auto field = json_string(cause, "field");
            auto text = cause_type_text(json_string(cause, "reason"));
            if (const auto detail = safe_detail(json_string(cause, "message")); !detail.empty()) {
                text += ": " + detail;
            }
            causes.push_back(field.empty()      ? text
                             : name_like(field) ? field + ": " + text
                                                : "(a field): " + text);
        }
    }
    if (causes.empty()) {
        return json_string(status, "message").empty()
                   ? std::string()
                   : "the server's message is withheld: it may hold values";
    }
    auto text = causes.size() == 1 ? causes[0] : fmt::format("[{}]", fmt::join(causes, ", "));
    const auto kind = details != nullptr ? json_string(*details, "kind") : std::string();
    const auto name = details != nullptr ? json_string(*details, "name") : std::string();
    if (json_string(status, "reason") == "Invalid" && name_like(kind, 64) && name_like(name)) {
        text = fmt::format("{} \"{}\" is invalid: {}", kind, name, text);
    }
    return text;
}

}  // namespace

std::string status_message(const rapidjson::Value& status, bool sensitive) {
    return sensitive ? rebuilt_message(status) : json_string(status, "message");
}

std::string Operation::describe() const {
    auto out = verb + " " + resource;
    if (!name.empty()) {
        out += fmt::format(" \"{}\"", name);
    }
    if (!namespace_name.empty()) {
        out += fmt::format(" in namespace \"{}\"", namespace_name);
    }
    return out;
}

ApiError api_error(const Operation& op, const http::Response& response) {
    std::string reason;
    std::string message;
    rapidjson::Document doc;
    if (parse_json_object(response.body, doc).empty() && json_string(doc, "kind") == "Status") {
        reason = json_string(doc, "reason");
        message = status_message(doc, op.sensitive);
    } else if (op.sensitive) {
        // Not a Status: a proxy's page, or a server's text that may quote the request.
        message =
            response.body.empty() ? "" : "the server's answer is withheld: it may hold values";
    } else {
        message = first_line(response.body);
    }
    const int code = static_cast<int>(response.status);
    auto text = fmt::format("{}: {}", op.describe(), status_text(code));
    if (code == 403) {
        text += " (check RBAC)";
    }
    if (!message.empty()) {
        text += ": " + first_line(message, 1000);
    }
    return ApiError(code, reason, text);
}

}  // namespace cmsync::kube
