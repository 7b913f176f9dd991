// The health server of a build without cpp-httplib (-Dmetrics_server=disabled): the release
// archive for krew, whose binary needs nothing beyond libc and libstdc++ (and libcurl, loaded
// when a cluster is needed). The container image's binary has the server.
#include "controller/health_server.hpp"
#include "error.hpp"

namespace cmsync::controller {

struct HealthServer::Impl {};

HealthServer::HealthServer(const std::string& bind_address, HealthCallbacks) {
    parse_bind_address(bind_address);
    throw UsageError(
        "--metrics-bind-address: this kubectl-cmsync was built without the metrics server "
        "(it needs cpp-httplib); the container image's binary has it");
}

HealthServer::~HealthServer() = default;

void HealthServer::stop() {}

}  // namespace cmsync::controller
