#include "connection.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "error.hpp"
#include "http/proxy.hpp"
#include "kube/config_loader.hpp"
#include "kube/log_redaction.hpp"
#include "plan/ownership.hpp"
#include "process_log.hpp"
#include "version.hpp"

namespace cmsync::cli {

namespace {

std::string getenv_or(const char* name, const std::string& fallback = {}) {
    const char* value = std::getenv(name);
    return value == nullptr ? fallback : std::string(value);
}

// The first of two variables that is set and not empty, as Go's httpproxy reads them.
std::string getenv_any(const char* name, const char* other) {
    const auto value = getenv_or(name);
    return value.empty() ? getenv_or(other) : value;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(fmt::format("cannot read {}", path));
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

kube::ConfigFiles disk_files() {
    return {[](const std::string& path) {
                std::error_code ec;
                return std::filesystem::exists(path, ec);
            },
            read_file};
}

kube::Environment read_environment() {
    kube::Environment env;
    if (const char* kc = std::getenv("KUBECONFIG")) {
        env.kubeconfig = kc;
    }
    env.home = getenv_or("HOME");
    env.service_host = getenv_or("KUBERNETES_SERVICE_HOST");
    env.service_port = getenv_or("KUBERNETES_SERVICE_PORT", "443");
    return env;
}

Connection::Connection(const GlobalOptions& options, http::CancelCheck cancel,
                       http::RequestObserver observe)
    : config_(kube::load_rest_config(options.connection, read_environment(), disk_files())) {
    start(options, nullptr, std::move(cancel), std::move(observe));
}

Connection::Connection(const GlobalOptions& options, kube::RestConfig config,
                       kube::CredentialReload reload, http::CancelCheck cancel,
                       http::RequestObserver observe)
    : config_(std::move(config)) {
    config_.request_timeout = options.connection.request_timeout;
    start(options, std::move(reload), std::move(cancel), std::move(observe));
}

void Connection::start(const GlobalOptions& options, kube::CredentialReload reload,
                       http::CancelCheck cancel, http::RequestObserver observe) {
    credentials_ = std::make_unique<kube::Credentials>(
        config_, kube::run_exec_plugin, read_file, [] { return std::chrono::system_clock::now(); },
        [](const std::string& warning) { process_log().warning(warning); }, std::move(reload));
    http::CurlOptions curl;
    curl.tls = config_.tls;
    if (const auto cert = credentials_->exec_client_certificate()) {
        curl.tls.cert_pem = cert->first;
        curl.tls.key_pem = cert->second;
    }
    curl.proxy_url = http::choose_proxy(
        config_.server, config_.proxy_url,
        {getenv_any("HTTP_PROXY", "http_proxy"), getenv_any("HTTPS_PROXY", "https_proxy"),
         getenv_any("NO_PROXY", "no_proxy")});
    curl.user_agent = fmt::format("kubectl-cmsync/{}", kVersion);
    curl.cancel = std::move(cancel);
    transport_ = std::make_unique<http::CurlTransport>(std::move(curl));
    http::ClientOptions client;
    client.verbosity = options.verbosity;
    client.log = [](const std::string& line) { process_log().info(line); };
    // The recorded hashes of a Secret's values are as telling as the values for a short one.
    client.redact_body = [](const std::string& url, const std::string& body) {
        return kube::redact_body_for_log(url, body, {kLastSyncedAnnotation});
    };
    client.request_budget = config_.request_timeout;
    if (options.overall_limit.count() > 0) {
        client.deadline = std::chrono::steady_clock::now() + options.overall_limit;
    }
    client.observe = std::move(observe);
    // Every thread of a command slows down together when the server throttles (429).
    client.throttle = std::make_shared<http::Throttle>();
    client_options_ = client;
    http_ = std::make_unique<http::Client>(*transport_, std::move(client));
    api_ = std::make_unique<kube::ApiClient>(*http_, config_, *credentials_);
}

kube::ApiClient& Connection::api_with_budget(std::chrono::milliseconds budget) {
    auto options = client_options_;
    // The Lease and Events have deadlines of their own: never queued behind throttled writes.
    options.throttle.reset();
    options.request_budget =
        options.request_budget.count() > 0 ? std::min(options.request_budget, budget) : budget;
    auto http = std::make_unique<http::Client>(*transport_, std::move(options));
    auto api = std::make_unique<kube::ApiClient>(*http, config_, *credentials_);
    side_.emplace_back(std::move(http), std::move(api));
    return *side_.back().second;
}

}  // namespace cmsync::cli
