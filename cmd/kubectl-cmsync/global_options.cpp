#include "global_options.hpp"

#include <fmt/format.h>

#include <charconv>
#include <limits>

#include "error.hpp"
#include "util/validate.hpp"

namespace cmsync::cli {

CLI::Validator whole_number(int min, int max) {
    const auto expected = max == std::numeric_limits<int>::max()
                              ? std::string(min == 1 ? "a positive integer" : "a whole number")
                              : fmt::format("an integer from {} to {}", min, max);
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            long long value = 0;
            const auto* end = text.data() + text.size();
            const auto [ptr, ec] = std::from_chars(text.data(), end, value);
            if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
                return fmt::format("must be {}, got \"{}\"", expected, text);
            }
            return {};
        },
        expected);
}

void add_global_options(CLI::App& app, GlobalOptions& o) {
    auto& c = o.connection;
    const char* group = "Connection (as kubectl)";
    app.add_option("--kubeconfig", c.kubeconfig, "Path to the kubeconfig file")->group(group);
    app.add_option("--context", c.context, "The kubeconfig context to use")->group(group);
    app.add_option("--cluster", c.cluster, "The kubeconfig cluster to use")->group(group);
    app.add_option("--user", c.user, "The kubeconfig user to use")->group(group);
    app.add_option("-n,--namespace", c.namespace_name,
                   "The source namespace (then every positional namespace is a target)")
        ->group(group);
    app.add_option("-s,--server", c.server, "The address and port of the API server")->group(group);
    app.add_option("--token", c.token, "Bearer token for authentication")->group(group);
    app.add_option("--certificate-authority", c.certificate_authority,
                   "Path to a cert file for the certificate authority")
        ->group(group);
    app.add_option("--client-certificate", c.client_certificate,
                   "Path to a client certificate file for TLS")
        ->group(group);
    app.add_option("--client-key", c.client_key, "Path to a client key file for TLS")->group(group);
    app.add_flag("--insecure-skip-tls-verify", o.insecure_skip_tls_verify,
                 "Do not verify the server's certificate (insecure)")
        ->group(group);
    app.add_option("--tls-server-name", c.tls_server_name,
                   "Server name to use for certificate validation")
        ->group(group);
    app.add_option("--as", c.as, "Username to impersonate")->group(group);
    app.add_option("--as-group", c.as_groups, "Group to impersonate (repeatable)")->group(group);
    app.add_option("--request-timeout", o.request_timeout,
                   "Time to wait for a single request (e.g. 5s, 1m; 0 = no limit)")
        ->group(group);
    app.add_option("-v,--v", o.verbosity, "Log level: 6 requests, 7 headers, 8 bodies")
        ->check(whole_number(0, std::numeric_limits<int>::max()))
        ->group(group);
    app.add_option("--chunk-size", o.chunk_size, "Items per list page")
        ->check(whole_number(1, std::numeric_limits<int>::max()))
        ->group(group);
    app.add_option("--color", o.color, "Colour output: auto, always, never")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->group(group);
}

void finish_global_options(CLI::App& app, GlobalOptions& o) {
    const auto timeout = parse_duration(o.request_timeout);
    if (!timeout) {
        throw UsageError(
            fmt::format("invalid --request-timeout \"{}\": use a duration such as "
                        "30s or 1m",
                        o.request_timeout));
    }
    o.connection.request_timeout = *timeout;
    if (app.count("--insecure-skip-tls-verify") > 0) {
        o.connection.insecure_skip_tls_verify = o.insecure_skip_tls_verify;
    }
}

}  // namespace cmsync::cli
