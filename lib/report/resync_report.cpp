#include "report/resync_report.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <vector>

#include "kube/json.hpp"
#include "util/text_escape.hpp"

namespace cmsync {

std::string render_resync_line(const ResyncOutcome& r) {
    if (r.kind == ResyncKind::in_step) {
        return {};
    }
    const auto& o = r.target;
    auto line = fmt::format("{}: {}", o.target.str(), to_string(r.kind));
    const auto result = sync_result(o);
    if (r.kind == ResyncKind::orphaned &&
        (result == SyncResult::deleted || result == SyncResult::updated)) {
        line += result == SyncResult::deleted ? " (deleted)" : " (managed keys removed)";
    }
    if (!o.error.empty()) {
        line += ": " + o.error;
    } else if (!o.plan.message.empty()) {
        line += ": " + o.plan.message;
    }
    return escape_control(line);
}

std::string render_resync_json_open() {
    return R"({"copies":[)";
}

std::string render_resync_json_copy(const ResyncOutcome& r, bool first) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    const auto& o = r.target;
    doc.AddMember("namespace", rapidjson::Value(o.target.namespace_name, a), a);
    doc.AddMember("name", rapidjson::Value(o.target.name, a), a);
    doc.AddMember("source", rapidjson::Value(o.source_text(), a), a);
    doc.AddMember("result", rapidjson::StringRef(to_string(r.kind)), a);
    doc.AddMember("action", rapidjson::StringRef(to_string(sync_result(o))), a);
    if (!o.plan.message.empty()) {
        doc.AddMember("message", rapidjson::Value(o.plan.message, a), a);
    }
    doc.AddMember("error", o.error.empty() ? rapidjson::Value() : rapidjson::Value(o.error, a), a);
    // Appended, not `"," + text`: g++ 12 -O3 warns (-Wrestrict) on inserting before a string.
    std::string out = first ? "" : ",";
    out += kube::to_json(doc);
    out += "\n";
    return out;
}

std::string render_resync_json_close(const ResyncSummary& summary) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    rapidjson::Value counts(rapidjson::kObjectType);
    for (const auto& [kind, count] : summary.counts) {
        counts.AddMember(rapidjson::StringRef(to_string(kind)), rapidjson::Value(count), a);
    }
    rapidjson::Value errors(rapidjson::kArrayType);
    for (const auto& e : summary.namespace_errors) {
        errors.PushBack(rapidjson::Value(e, a), a);
    }
    return fmt::format(R"(],"summary":{},"errors":{},"listRestarts":{}}})", kube::to_json(counts),
                       kube::to_json(errors), summary.list_restarts) +
           "\n";
}

std::string render_resync_summary_text(const ResyncSummary& summary, DryRunMode dry_run) {
    std::string out;
    for (const auto& e : summary.namespace_errors) {
        out += "error: " + escape_control(e) + "\n";
    }
    std::vector<std::string> parts;
    for (const auto kind : {ResyncKind::in_step, ResyncKind::updated, ResyncKind::conflict,
                            ResyncKind::orphaned, ResyncKind::error}) {
        parts.push_back(fmt::format("{} {}", summary.count(kind), to_string(kind)));
    }
    out += fmt::format("{} copies: {}{}{}\n", summary.total(), fmt::join(parts, ", "),
                       summary.list_restarts > 0
                           ? fmt::format(" (list restarted {} time(s))", summary.list_restarts)
                           : "",
                       dry_run == DryRunMode::none ? "" : " (dry run)");
    return out;
}

int resync_exit_code(const ResyncSummary& summary, bool prune) {
    const bool orphans_left = summary.count(ResyncKind::orphaned) > 0 && !prune;
    const bool bad = summary.count(ResyncKind::conflict) + summary.count(ResyncKind::error) > 0;
    return bad || orphans_left || !summary.namespace_errors.empty() ? 1 : 0;
}

}  // namespace cmsync
