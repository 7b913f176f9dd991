#include "report/target_line.hpp"

#include <fmt/format.h>

#include "util/text_escape.hpp"

namespace cmsync {

std::string target_line(const TargetOutcome& o, const char* word, bool (*wanted)(KeyAction),
                        bool show_keys) {
    auto line = fmt::format("{}: {}", o.label(), word);
    std::vector<std::string> keys;
    for (const auto& k : o.plan.keys) {
        if (wanted(k.action)) {
            keys.push_back(fmt::format("{} {}", to_string(k.action), k.key));
        }
    }
    if (!keys.empty() && show_keys) {
        line += fmt::format(" ({})", fmt::join(keys, ", "));
    }
    if (!o.error.empty()) {
        line += ": " + o.error;
    } else if (!o.plan.message.empty()) {
        line += ": " + o.plan.message;
    }
    return escape_control(line);
}

}  // namespace cmsync
