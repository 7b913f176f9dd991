// The Lease calls of ApiClient: leader election's only requests.
#include <fmt/format.h>

#include "error.hpp"
#include "kube/api_client.hpp"
#include "kube/pager.hpp"

namespace cmsync::kube {

namespace {

std::string leases_path(const std::string& ns) {
    return fmt::format("/apis/coordination.k8s.io/v1/namespaces/{}/leases", query_escape(ns));
}

Lease answered_lease(const http::Response& response, const Operation& op) {
    try {
        return lease_from_json(response.body);
    } catch (const Error& e) {
        throw Error(fmt::format("{}: {}", op.describe(), e.what()));
    }
}

}  // namespace

std::optional<Lease> ApiClient::get_lease(const std::string& ns, const std::string& name) {
    const Operation op{"get", "leases", name, ns};
    const auto response = call("GET", leases_path(ns) + "/" + query_escape(name), "", op);
    if (response.status == 404) {
        return std::nullopt;
    }
    return answered_lease(response, op);
}

Lease ApiClient::create_lease(const Lease& lease) {
    const Operation op{"create", "leases", lease.name, lease.namespace_name};
    Lease body = lease;
    body.resource_version.clear();
    return answered_lease(call("POST", leases_path(lease.namespace_name), lease_to_json(body), op),
                          op);
}

Lease ApiClient::update_lease(const Lease& lease) {
    const Operation op{"update", "leases", lease.name, lease.namespace_name};
    const auto path = leases_path(lease.namespace_name) + "/" + query_escape(lease.name);
    return answered_lease(call("PUT", path, lease_to_json(lease), op), op);
}

}  // namespace cmsync::kube
