#include "util/text_escape.hpp"

#include <fmt/format.h>

namespace cmsync {

std::string escape_control(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
            out += fmt::format("\\u{:04x}", next);  // C1 controls (U+0080..U+009F): CSI, OSC, ...
            ++i;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string escape_control_lines(std::string_view text) {
    std::string out;
    for (std::size_t start = 0; start < text.size();) {
        auto end = text.find('\n', start);
        end = end == std::string_view::npos ? text.size() : end;
        out += escape_control(text.substr(start, end - start));
        if (end < text.size()) {
            out += '\n';
        }
        start = end + 1;
    }
    return out;
}

}  // namespace cmsync
