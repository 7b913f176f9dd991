#include "kube/rest_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "error.hpp"

namespace cmsync::kube {

namespace {

std::string where_from(const Kubeconfig& config) {
    if (config.files.empty()) {
        return "kubeconfig";
    }
    return fmt::format("kubeconfig {}", fmt::join(config.files, ":"));
}

// `server` with its scheme in lower case. Only http and https (libcurl would open file://,
// dict://, ...), and no user:password@: it would be sent as basic auth whatever the scheme,
// and echoed wherever the URL is.
std::string checked_server_url(std::string server) {
    const auto scheme_end = server.find("://");
    const auto authority_start = scheme_end + 3;
    const auto authority_end = server.find_first_of("/?#", authority_start);
    const auto at = server.rfind('@', authority_end);
    if (at != std::string::npos && at >= authority_start) {
        throw Error(
            fmt::format("server {}{}: user:password@ in the server URL is not supported; "
                        "set the user's username and password instead",
                        server.substr(0, authority_start), server.substr(at + 1)));
    }
    std::transform(server.begin(), server.begin() + static_cast<std::ptrdiff_t>(scheme_end),
                   server.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (server.rfind("https://", 0) != 0 && server.rfind("http://", 0) != 0) {
        throw Error(fmt::format("server {}: only https and http URLs are supported", server));
    }
    return server;
}

void apply_flags(RestConfig& out, const ConnectionFlags& flags) {
    if (!flags.server.empty()) {
        out.server = flags.server;
    }
    if (!flags.certificate_authority.empty()) {
        out.tls.ca_file = flags.certificate_authority;
        out.tls.ca_pem.clear();
    }
    if (flags.insecure_skip_tls_verify) {
        out.tls.insecure_skip_verify = *flags.insecure_skip_tls_verify;
    }
    if (!flags.tls_server_name.empty()) {
        out.tls.server_name = flags.tls_server_name;
    }
    if (!flags.client_certificate.empty()) {
        out.tls.cert_file = flags.client_certificate;
        out.tls.cert_pem.clear();
    }
    if (!flags.client_key.empty()) {
        out.tls.key_file = flags.client_key;
        out.tls.key_pem.clear();
    }
    if (!flags.token.empty()) {
        // A token on the command line replaces every other credential, as in kubectl.
        out.token = flags.token;
        out.token_file.clear();
        out.exec.reset();
        out.username.clear();
        out.password.clear();
    }
    if (!flags.as.empty()) {
        out.impersonate_user = flags.as;
    }
    if (!flags.as_groups.empty()) {
        out.impersonate_groups = flags.as_groups;
    }
    if (!flags.namespace_name.empty()) {
        out.namespace_name = flags.namespace_name;
    }
    out.request_timeout = flags.request_timeout;
    while (!out.server.empty() && out.server.back() == '/') {
        out.server.pop_back();
    }
    if (!out.server.empty() && out.server.find("://") == std::string::npos) {
        // A bare host:port, as client-go's DefaultServerURL reads it: https when TLS is set up.
        const auto& tls = out.tls;
        const bool tls_configured = !tls.ca_file.empty() || !tls.ca_pem.empty() ||
                                    !tls.cert_file.empty() || !tls.cert_pem.empty() ||
                                    tls.insecure_skip_verify;
        out.server = (tls_configured ? "https://" : "http://") + out.server;
    }
    if (!out.server.empty()) {
        out.server = checked_server_url(std::move(out.server));
    }
}

}  // namespace

bool uses_tls(const RestConfig& config) {
    return config.server.rfind("https://", 0) == 0;
}

RestConfig resolve_rest_config(const Kubeconfig& config, const ConnectionFlags& flags) {
    RestConfig out;
    const std::string context_name = flags.context.empty() ? config.current_context : flags.context;
    std::string cluster_name = flags.cluster;
    std::string user_name = flags.user;
    if (!context_name.empty()) {
        const auto it = config.contexts.find(context_name);
        if (it == config.contexts.end()) {
            const auto field = flags.context.empty() ? fmt::format("current-context in {}",
                                                                   config.current_context_file)
                                                     : std::string("--context");
            throw Error(fmt::format("{}: context \"{}\" not found (set by {})", where_from(config),
                                    context_name, field));
        }
        out.context = context_name;
        const auto& context = it->second.first;
        if (cluster_name.empty()) {
            cluster_name = context.cluster;
        }
        if (user_name.empty()) {
            user_name = context.user;
        }
        if (!context.namespace_name.empty()) {
            out.namespace_name = context.namespace_name;
        }
    } else if (flags.server.empty() && flags.cluster.empty()) {
        throw Error(fmt::format("{}: no current-context is set; pass --context or --server",
                                where_from(config)));
    }
    if (!cluster_name.empty()) {
        const auto it = config.clusters.find(cluster_name);
        if (it == config.clusters.end()) {
            throw Error(fmt::format("{}: cluster \"{}\" not found (context \"{}\")",
                                    where_from(config), cluster_name, context_name));
        }
        const auto& cluster = it->second.first;
        out.server = cluster.server;
        out.tls.ca_file = cluster.certificate_authority;
        out.tls.ca_pem = cluster.certificate_authority_data;
        out.tls.insecure_skip_verify = cluster.insecure_skip_tls_verify;
        out.tls.server_name = cluster.tls_server_name;
        out.proxy_url = cluster.proxy_url;
    }
    if (!user_name.empty()) {
        const auto it = config.users.find(user_name);
        if (it == config.users.end()) {
            throw Error(fmt::format("{}: user \"{}\" not found (context \"{}\")",
                                    where_from(config), user_name, context_name));
        }
        const auto& user = it->second.first;
        out.token = user.token;
        out.token_file = user.token.empty() ? user.token_file : "";  // token wins
        out.tls.cert_file = user.client_certificate;
        out.tls.cert_pem = user.client_certificate_data;
        out.tls.key_file = user.client_key;
        out.tls.key_pem = user.client_key_data;
        out.username = user.username;
        out.password = user.password;
        out.exec = user.exec;
        out.impersonate_user = user.as;
        out.impersonate_groups = user.as_groups;
    }
    apply_flags(out, flags);
    if (out.server.empty()) {
        throw Error(
            fmt::format("{}: cluster \"{}\" has no server", where_from(config), cluster_name));
    }
    return out;
}

RestConfig in_cluster_config(const Environment& env, const std::string& namespace_file_content,
                             const ConnectionFlags& flags) {
    RestConfig out;
    const bool ipv6 = env.service_host.find(':') != std::string::npos;
    out.server = fmt::format("https://{}{}{}:{}", ipv6 ? "[" : "", env.service_host,
                             ipv6 ? "]" : "", env.service_port);
    out.tls.ca_file = env.service_account_dir + "/ca.crt";
    out.token_file = env.service_account_dir + "/token";
    auto ns = namespace_file_content;
    while (!ns.empty() && (ns.back() == '\n' || ns.back() == ' ')) {
        ns.pop_back();
    }
    if (!ns.empty()) {
        out.namespace_name = ns;
    }
    apply_flags(out, flags);
    return out;
}

}  // namespace cmsync::kube
