#include "http/message.hpp"

#include <algorithm>
#include <cctype>

namespace cmsync::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

}  // namespace

std::string Response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) {
            return value;
        }
    }
    return {};
}

Headers redact(const Headers& headers) {
    Headers out;
    out.reserve(headers.size());
    for (const auto& [key, value] : headers) {
        if (iequals(key, "Authorization") || iequals(key, "Proxy-Authorization")) {
            const auto space = value.find(' ');
            const auto scheme = space == std::string::npos ? std::string() : value.substr(0, space);
            out.emplace_back(key, scheme.empty() ? "<masked>" : scheme + " <masked>");
        } else {
            out.emplace_back(key, value);
        }
    }
    return out;
}

}  // namespace cmsync::http
