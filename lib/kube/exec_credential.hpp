#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "kube/kubeconfig.hpp"

namespace cmsync::kube {

/// What an exec credential plugin returned.
struct ExecCredential {
    std::string token;
    std::string client_certificate_pem;
    std::string client_key_pem;
    std::optional<std::chrono::system_clock::time_point> expiry;
};

/// KUBERNETES_EXEC_INFO for `exec`: an ExecCredential with spec.interactive, and spec.cluster
/// when provideClusterInfo is set.
std::string exec_info_json(const ExecConfig& exec, const std::string& server,
                           const std::string& ca_pem);

/// Parses a plugin's stdout; throws Error naming the command (never quoting the output, which
/// holds secrets).
ExecCredential parse_exec_credential(const std::string& stdout_text, const ExecConfig& exec);

/// Parses an RFC 3339 UTC timestamp such as "2026-01-02T03:04:05Z".
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

/// Runs the plugin (with its env and KUBERNETES_EXEC_INFO added) and returns its stdout;
/// stderr passes through. Throws Error when it cannot start or exits non-zero.
using ExecRunner = std::function<std::string(const ExecConfig&, const std::string& exec_info)>;

/// The real runner: fork and exec.
std::string run_exec_plugin(const ExecConfig& exec, const std::string& exec_info);

}  // namespace cmsync::kube
