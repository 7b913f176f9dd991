#include "controller/rule_status.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <rapidjson/document.h>

#include <chrono>

#include "kube/json.hpp"

namespace cmsync::controller {

namespace {

std::string copies(std::size_t n) {
    return fmt::format("{} cop{}", n, n == 1 ? "y" : "ies");
}

// The status object the patch carries, built from the same fields whether it describes the
// wanted state or the observed one, so that equal states give equal text.
struct StatusFields {
    std::int64_t observed_generation = 0;
    std::int64_t targets = 0, in_step = 0, conflicts = 0, orphaned = 0, errors = 0;
    std::string last_sync_time;
    ReadyCondition ready;
    std::string transition_time;
    bool has_ready = false;
};

std::string render(const StatusFields& f) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    rapidjson::Value status(rapidjson::kObjectType);
    status.AddMember("observedGeneration", f.observed_generation, a);
    status.AddMember("targets", f.targets, a);
    status.AddMember("inStep", f.in_step, a);
    status.AddMember("conflicts", f.conflicts, a);
    status.AddMember("orphaned", f.orphaned, a);
    status.AddMember("errors", f.errors, a);
    if (!f.last_sync_time.empty()) {
        status.AddMember("lastSyncTime", rapidjson::Value(f.last_sync_time, a), a);
    }
    rapidjson::Value conditions(rapidjson::kArrayType);
    if (f.has_ready) {
        rapidjson::Value c(rapidjson::kObjectType);
        c.AddMember("type", "Ready", a);
        c.AddMember("status", rapidjson::StringRef(f.ready.ready ? "True" : "False"), a);
        c.AddMember("observedGeneration", f.observed_generation, a);
        c.AddMember("lastTransitionTime", rapidjson::Value(f.transition_time, a), a);
        c.AddMember("reason", rapidjson::Value(f.ready.reason, a), a);
        c.AddMember("message", rapidjson::Value(f.ready.message, a), a);
        conditions.PushBack(c, a);
    }
    status.AddMember("conditions", conditions, a);
    doc.AddMember("status", status, a);
    return kube::to_json(doc);
}

std::int64_t int_member(const rapidjson::Value& object, const char* name) {
    const auto it = object.FindMember(name);
    return it != object.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

}  // namespace

ReadyCondition ready_condition(const RuleState& s) {
    const auto& c = s.counts;
    if (!s.invalid.empty()) {
        return {false, "Invalid", fmt::format("{}", fmt::join(s.invalid, "; "))};
    }
    if (!s.refused.empty()) {
        return {false, "Overlap", s.refused};
    }
    if (!s.failure.empty()) {
        return {false, s.failure_code == 403 ? "Forbidden" : "Failing", s.failure};
    }
    if (!s.not_granted.empty()) {
        return {false, "NotGranted",
                fmt::format("no SyncGrant lets this rule write into {}",
                            fmt::join(s.not_granted, ", "))};
    }
    if (s.no_grant) {
        return {false, "NotGranted", "no SyncGrant lets this rule write into any namespace"};
    }
    if (!s.running) {
        return {false, "Pending", "starting"};
    }
    if (!c.missing_sources.empty()) {
        return {false, "SourceMissing",
                fmt::format("source {} not found", fmt::join(c.missing_sources, ", "))};
    }
    const auto of = [&](std::size_t n, const char* what) {
        return fmt::format("{} of {} {}", n, copies(c.targets), what);
    };
    if (c.errors > 0) {
        return {false, "Errors", of(c.errors, "failed to sync")};
    }
    if (c.conflicts > 0) {
        return {false, "Conflicts",
                of(c.conflicts, "in conflict: kubectl cmsync diff shows which keys")};
    }
    if (c.in_step < c.targets) {
        return {false, "Pending", of(c.in_step, "in step")};
    }
    return {true, "InStep", of(c.in_step, "in step")};
}

std::string status_patch(const RuleState& s, const ReadyCondition& ready,
                         const std::string& transition_time) {
    StatusFields f;
    f.observed_generation = s.generation;
    f.targets = static_cast<std::int64_t>(s.counts.targets);
    f.in_step = static_cast<std::int64_t>(s.counts.in_step);
    f.conflicts = static_cast<std::int64_t>(s.counts.conflicts);
    f.orphaned = static_cast<std::int64_t>(s.counts.orphaned);
    f.errors = static_cast<std::int64_t>(s.counts.errors);
    if (s.counts.last_write_unix_ms > 0) {
        f.last_sync_time = metav1_time(s.counts.last_write_unix_ms);
    }
    f.ready = ready;
    f.transition_time = transition_time;
    f.has_ready = true;
    return render(f);
}

ObservedStatus observed_status(const std::string& object_json) {
    ObservedStatus out;
    rapidjson::Document doc;
    if (!kube::parse_json_object(object_json, doc).empty()) {
        return out;
    }
    const auto* status = kube::json_object(doc, "status");
    if (status == nullptr) {
        return out;
    }
    StatusFields f;
    f.observed_generation = int_member(*status, "observedGeneration");
    f.targets = int_member(*status, "targets");
    f.in_step = int_member(*status, "inStep");
    f.conflicts = int_member(*status, "conflicts");
    f.orphaned = int_member(*status, "orphaned");
    f.errors = int_member(*status, "errors");
    f.last_sync_time = kube::json_string(*status, "lastSyncTime");
    if (const auto it = status->FindMember("conditions");
        it != status->MemberEnd() && it->value.IsArray()) {
        for (const auto& c : it->value.GetArray()) {
            if (c.IsObject() && kube::json_string(c, "type") == "Ready") {
                f.has_ready = true;
                f.ready = {kube::json_string(c, "status") == "True", kube::json_string(c, "reason"),
                           kube::json_string(c, "message")};
                f.transition_time = kube::json_string(c, "lastTransitionTime");
            }
        }
    }
    out.patch = render(f);
    out.generation = f.observed_generation;
    out.ready = f.ready;
    out.transition_time = f.has_ready ? f.transition_time : std::string();
    return out;
}

bool keeps_status(std::int64_t generation, const ObservedStatus& said) {
    return !said.patch.empty() && said.generation == generation;
}

std::string metav1_time(std::int64_t unix_ms) {
    const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms));
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                       fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

}  // namespace cmsync::controller
