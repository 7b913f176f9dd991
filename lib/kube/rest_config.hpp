#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "http/curl_transport.hpp"
#include "kube/kubeconfig.hpp"

namespace cmsync::kube {

/// kubectl's standard connection flags; an empty field was not given.
struct ConnectionFlags {
    std::string kubeconfig;
    std::string context;
    std::string cluster;
    std::string user;
    std::string namespace_name;
    std::string server;
    std::string token;
    std::string certificate_authority;
    std::string client_certificate;
    std::string client_key;
    std::optional<bool> insecure_skip_tls_verify;
    std::string tls_server_name;
    std::string as;
    std::vector<std::string> as_groups;
    std::chrono::milliseconds request_timeout{0};
};

/// What the process environment contributes; read by cmd/, passed in here.
struct Environment {
    std::optional<std::string> kubeconfig;  ///< $KUBECONFIG
    std::string home;
    std::string service_host;  ///< $KUBERNETES_SERVICE_HOST
    std::string service_port;  ///< $KUBERNETES_SERVICE_PORT
    std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

/// Everything needed to talk to one API server as one user.
struct RestConfig {
    std::string server;  ///< without a trailing '/'
    http::TlsOptions tls;
    std::string proxy_url;
    std::string token;
    std::string token_file;  ///< re-read before use: it may rotate
    std::string username;
    std::string password;
    std::optional<ExecConfig> exec;
    std::string impersonate_user;
    std::vector<std::string> impersonate_groups;
    std::string namespace_name = "default";
    std::string context;  ///< the context used; empty for flags-only or in-cluster
    std::chrono::milliseconds request_timeout{0};
};

/// Whether requests to `config.server` use TLS (an https URL); credentials go nowhere else.
bool uses_tls(const RestConfig& config);

/// Resolves the context (--context or current-context), its cluster and user, then applies the
/// flags on top. Throws Error naming the file and field when something is missing.
RestConfig resolve_rest_config(const Kubeconfig& config, const ConnectionFlags& flags);

/// The in-cluster service-account config; `namespace_file` content is the default namespace.
RestConfig in_cluster_config(const Environment& env, const std::string& namespace_file_content,
                             const ConnectionFlags& flags);

}  // namespace cmsync::kube
