#include "kube/lease.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <rapidjson/document.h>

#include <ctime>

#include "error.hpp"
#include "kube/json.hpp"

namespace cmsync::kube {

namespace {

int json_int(const rapidjson::Value& object, const char* key) {
    const auto it = object.FindMember(key);
    return it != object.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : 0;
}

}  // namespace

Lease lease_from_json(const std::string& text) {
    rapidjson::Document doc;
    if (const auto problem = parse_json_object(text, doc); !problem.empty()) {
        throw Error("expected a Lease: " + problem);
    }
    const auto* meta = json_object(doc, "metadata");
    if (json_string(doc, "kind") != "Lease" || meta == nullptr) {
        throw Error("expected a Lease");
    }
    Lease lease;
    lease.namespace_name = json_string(*meta, "namespace");
    lease.name = json_string(*meta, "name");
    lease.resource_version = json_string(*meta, "resourceVersion");
    if (const auto* spec = json_object(doc, "spec")) {
        lease.record.holder = json_string(*spec, "holderIdentity");
        lease.record.lease_duration_seconds = json_int(*spec, "leaseDurationSeconds");
        lease.record.acquire_time = json_string(*spec, "acquireTime");
        lease.record.renew_time = json_string(*spec, "renewTime");
        lease.record.lease_transitions = json_int(*spec, "leaseTransitions");
    }
    return lease;
}

std::string lease_to_json(const Lease& lease) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    // With the length: a holder with a NUL (found by fuzzing, issue 17) was cut at it.
    const auto str = [&](const std::string& s) { return rapidjson::Value(s, a); };
    rapidjson::Value meta(rapidjson::kObjectType);
    meta.AddMember("name", str(lease.name), a);
    meta.AddMember("namespace", str(lease.namespace_name), a);
    if (!lease.resource_version.empty()) {
        meta.AddMember("resourceVersion", str(lease.resource_version), a);
    }
    const auto& r = lease.record;
    rapidjson::Value spec(rapidjson::kObjectType);
    spec.AddMember("holderIdentity", str(r.holder), a);
    spec.AddMember("leaseDurationSeconds", r.lease_duration_seconds, a);
    if (!r.acquire_time.empty()) {
        spec.AddMember("acquireTime", str(r.acquire_time), a);
    }
    if (!r.renew_time.empty()) {
        spec.AddMember("renewTime", str(r.renew_time), a);
    }
    spec.AddMember("leaseTransitions", r.lease_transitions, a);
    doc.AddMember("apiVersion", "coordination.k8s.io/v1", a);
    doc.AddMember("kind", "Lease", a);
    doc.AddMember("metadata", meta, a);
    doc.AddMember("spec", spec, a);
    return to_json(doc);
}

std::string micro_time(long long unix_micros) {
    auto seconds = static_cast<std::time_t>(unix_micros / 1000000);
    auto fraction = unix_micros % 1000000;
    if (fraction < 0) {  // before 1970: the second below, plus a positive fraction
        fraction += 1000000;
        --seconds;
    }
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", fmt::gmtime(seconds), fraction);
}

}  // namespace cmsync::kube
