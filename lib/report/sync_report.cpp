#include "report/sync_report.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <map>

#include "kube/json.hpp"
#include "report/report_json.hpp"
#include "report/target_line.hpp"
#include "util/text_escape.hpp"

namespace cmsync {

namespace {

const char* dry_run_name(DryRunMode mode) {
    constexpr const char* kNames[] = {"none", "client", "server"};  // in the enum's order
    return kNames[static_cast<int>(mode)];
}

bool written(KeyAction action) {
    return action == KeyAction::add || action == KeyAction::modify || action == KeyAction::remove ||
           action == KeyAction::conflict;
}

std::map<std::string, int> tally(const std::vector<TargetOutcome>& outcomes) {
    std::map<std::string, int> counts;
    for (const auto& o : outcomes) {
        ++counts[to_string(sync_result(o))];
    }
    return counts;
}

}  // namespace

std::string render_sync_text(const std::vector<TargetOutcome>& outcomes, DryRunMode dry_run,
                             bool color) {
    std::string out;
    for (const auto& o : outcomes) {
        const auto result = sync_result(o);
        const auto line = target_line(o, to_string(result), written, result != SyncResult::error);
        const bool bad = result == SyncResult::conflict || result == SyncResult::error;
        out += color && bad ? fmt::format("\x1b[33m{}\x1b[0m\n", line) : line + "\n";
        for (const auto& w : o.plan.warnings) {
            out += fmt::format("  warning: {}\n", escape_control(w));
        }
    }
    std::vector<std::string> parts;
    for (const auto& [result, count] : tally(outcomes)) {
        parts.push_back(fmt::format("{} {}", count, result));
    }
    out += fmt::format(
        "{} target{}{}{}{}\n", outcomes.size(), outcomes.size() == 1 ? "" : "s",
        parts.empty() ? "" : ": ", fmt::join(parts, ", "),
        dry_run == DryRunMode::none ? "" : fmt::format(" (dry run: {})", dry_run_name(dry_run)));
    return out;
}

std::string render_sync_json(const std::string& source_namespace,
                             const std::vector<TargetOutcome>& outcomes, DryRunMode dry_run) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    const auto str = [&](const std::string& s) { return rapidjson::Value(s, a); };
    doc.AddMember("source", str(source_namespace), a);
    doc.AddMember("dryRun", rapidjson::StringRef(dry_run_name(dry_run)), a);
    rapidjson::Value targets(rapidjson::kArrayType);
    for (const auto& o : outcomes) {
        auto t = target_json(o, a);
        t.AddMember("result", str(to_string(sync_result(o))), a);
        rapidjson::Value keys(rapidjson::kArrayType);
        for (const auto& k : o.plan.keys) {
            keys.PushBack(key_plan_json(k, a), a);
        }
        t.AddMember("keys", keys, a);
        if (!o.plan.message.empty()) {
            t.AddMember("message", str(o.plan.message), a);
        }
        add_warnings_json(t, o.plan.warnings, a);
        t.AddMember("retries", o.conflicts_retried, a);
        t.AddMember("error", o.error.empty() ? rapidjson::Value() : str(o.error), a);
        targets.PushBack(t, a);
    }
    doc.AddMember("targets", targets, a);
    rapidjson::Value summary(rapidjson::kObjectType);
    for (const auto& [result, count] : tally(outcomes)) {
        summary.AddMember(str(result), rapidjson::Value(count), a);
    }
    doc.AddMember("summary", summary, a);
    return kube::to_json(doc) + "\n";
}

int sync_exit_code(const std::vector<TargetOutcome>& outcomes) {
    for (const auto& o : outcomes) {
        const auto result = sync_result(o);
        if (result == SyncResult::conflict || result == SyncResult::error) {
            return 1;
        }
    }
    return 0;
}

}  // namespace cmsync
