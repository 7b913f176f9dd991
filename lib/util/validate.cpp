#include "util/validate.hpp"

#include <fmt/format.h>

#include <cctype>

namespace cmsync {

namespace {

bool lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool dns1123_label(const std::string& s) {
    if (s.empty() || s.size() > 63 || !lower_alnum(s.front()) || !lower_alnum(s.back())) {
        return false;
    }
    for (const char c : s) {
        if (!lower_alnum(c) && c != '-') {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> invalid_namespace(const std::string& name) {
    if (dns1123_label(name)) {
        return std::nullopt;
    }
    return fmt::format(
        "invalid namespace \"{}\": must be a lowercase RFC 1123 label (a-z, 0-9, '-', at most "
        "63 characters, starting and ending with a letter or digit)",
        name);
}

std::optional<std::string> invalid_object_name(std::string_view kind, const std::string& name) {
    bool ok = !name.empty() && name.size() <= 253;
    std::size_t start = 0;
    while (ok && start <= name.size()) {
        auto end = name.find('.', start);
        end = end == std::string::npos ? name.size() : end;
        const auto part = name.substr(start, end - start);
        ok = dns1123_label(part);
        start = end + 1;
    }
    if (ok) {
        return std::nullopt;
    }
    return fmt::format(
        "invalid {} name \"{}\": must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.', at "
        "most 253 characters)",
        kind, name);
}

std::optional<std::string> invalid_key(const std::string& key) {
    bool ok =
        !key.empty() && key.size() <= 253 && key != "." && key != ".." && key.rfind("..", 0) != 0;
    for (const char c : key) {
        ok =
            ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    }
    if (ok) {
        return std::nullopt;
    }
    return fmt::format(
        "invalid key \"{}\": must consist of alphanumerics, '-', '_' or '.', at most 253 "
        "characters, and not be '.' or start with '..'",
        key);
}

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
    if (text == "0") {
        return std::chrono::milliseconds(0);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    double total_ms = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t j = i;
        while (j < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) {
            ++j;
        }
        if (j == i) {
            return std::nullopt;
        }
        const double number = std::stod(text.substr(i, j - i));
        std::size_t k = j;
        while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) {
            ++k;
        }
        const auto unit = text.substr(j, k - j);
        double factor = 0;
        if (unit == "ms") {
            factor = 1;
        } else if (unit == "s") {
            factor = 1000;
        } else if (unit == "m") {
            factor = 60'000;
        } else if (unit == "h") {
            factor = 3'600'000;
        } else {
            return std::nullopt;
        }
        total_ms += number * factor;
        i = k;
    }
    return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

}  // namespace cmsync
