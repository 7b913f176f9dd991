#include "controller/action_signals.hpp"

#include <fmt/format.h>

namespace cmsync::controller {

namespace {

std::string keys_text(const WatchAction& a) {
    return a.keys.empty() ? std::string() : fmt::format(" ({})", fmt::join(a.keys, ", "));
}

}  // namespace

ActionSignals signals_of(const WatchAction& a, const std::string& rule) {
    ActionSignals s;
    const bool written = a.action == "created" || a.action == "updated" ||
                         a.action == "recreated" || a.action == "deleted";
    for (int i = 0; i < a.conflicts_retried; ++i) {
        s.writes.emplace_back(a.verb, "conflict");
    }
    if (written) {
        s.writes.emplace_back(a.verb, "success");
    }
    if (a.reason.empty()) {
        return s;
    }
    const auto slash = a.target.find('/');
    EventOccurrence e;
    e.regarding.namespace_name = a.target.substr(0, slash);
    e.regarding.name = slash == std::string::npos ? a.target : a.target.substr(slash + 1);
    e.regarding.uid = a.uid;
    e.type = EventType::warning;
    e.reason = a.reason;
    e.action = "Sync";
    const auto by = rule.empty() ? std::string() : fmt::format(" (rule {})", rule);
    if (a.reason == "WriteFailed") {
        s.writes.emplace_back(a.verb, "error");
        e.note = fmt::format("kubectl-cmsync could not {} this copy{}: {}", a.verb, by, a.detail);
    } else if (a.reason == "Drift") {
        s.drift = true;
        e.note = fmt::format(
            "managed keys{} edited here differ from the source{}: kept, not "
            "overwritten: {}",
            keys_text(a), by, a.detail);
    } else if (a.reason == "Orphaned") {
        s.orphan = true;
        e.type = EventType::normal;
        e.note = fmt::format("{}{}", a.detail, by);
    } else {
        s.conflict = true;
        e.note = fmt::format("not in step with its source{}: {}", by, a.detail);
    }
    s.event = std::move(e);
    return s;
}

}  // namespace cmsync::controller
