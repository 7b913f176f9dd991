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
    const char* verb = to_string(a.verb);
    for (int i = 0; i < a.conflicts_retried; ++i) {
        s.writes.emplace_back(verb, "conflict");
    }
    if (wrote(a.action)) {
        s.writes.emplace_back(verb, "success");
    }
    if (a.reason == OutOfStep::none) {
        return s;
    }
    EventOccurrence e;
    e.regarding.kind = a.kind;
    e.regarding.namespace_name = a.target.namespace_name;
    e.regarding.name = a.target.name;
    e.regarding.uid = a.uid;
    e.type = EventType::warning;
    e.reason = to_string(a.reason);
    e.action = "Sync";
    const auto by = rule.empty() ? std::string() : fmt::format(" (rule {})", rule);
    if (a.reason == OutOfStep::write_failed) {
        s.writes.emplace_back(verb, "error");
        e.note = fmt::format("kubectl-cmsync could not {} this copy{}: {}", verb, by, a.detail);
    } else if (a.reason == OutOfStep::drift) {
        s.drift = true;
        e.note = fmt::format(
            "managed keys{} edited here differ from the source{}: kept, not "
            "overwritten: {}",
            keys_text(a), by, a.detail);
    } else if (a.reason == OutOfStep::orphaned) {
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
