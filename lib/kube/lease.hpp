#pragma once

#include <optional>
#include <string>

namespace cmsync::kube {

/// What a `coordination.k8s.io/v1` Lease says about its holder (client-go's
/// LeaderElectionRecord). Times stay as the server wrote them: leader election compares
/// records, it never reads another node's clock.
struct LeaseRecord {
    std::string holder;  ///< empty: nobody (released)
    int lease_duration_seconds = 0;
    std::string acquire_time;  ///< MicroTime, RFC 3339 with microseconds
    std::string renew_time;
    int lease_transitions = 0;
    bool operator==(const LeaseRecord&) const = default;
};

struct Lease {
    std::string namespace_name;
    std::string name;
    std::string resource_version;  ///< empty for a create
    LeaseRecord record;
};

/// The Lease of a JSON answer; Error naming what is wrong.
Lease lease_from_json(const std::string& text);
/// The Lease as a JSON object for a create (no resourceVersion) or an update (with it).
std::string lease_to_json(const Lease& lease);
/// A MicroTime for `unix_micros` microseconds since the epoch: "2026-11-29T08:40:00.123456Z".
std::string micro_time(long long unix_micros);

}  // namespace cmsync::kube
