#include "kube/api_error.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

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

}  // namespace

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
        message = json_string(doc, "message");
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
