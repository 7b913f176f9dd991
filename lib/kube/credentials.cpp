#include "kube/credentials.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "kube/base64.hpp"

namespace cmsync::kube {

Credentials::Credentials(const RestConfig& config, ExecRunner runner, FileReader read_file,
                         Clock clock, WarningSink warn)
    : config_(config),
      runner_(std::move(runner)),
      read_file_(std::move(read_file)),
      clock_(std::move(clock)),
      warn_(std::move(warn)) {}

bool Credentials::may_send() {
    if (uses_tls(config_)) {
        return true;
    }
    const bool configured = !config_.token.empty() || !config_.token_file.empty() || config_.exec ||
                            !config_.username.empty() || !config_.password.empty();
    if (configured && warn_) {
        std::call_once(warned_, [&] {
            warn_(fmt::format("{} is not https: no credentials are sent to it (as kubectl)",
                              config_.server));
        });
    }
    return false;
}

const ExecCredential& Credentials::exec_credential() {
    if (!cached_ || (cached_->expiry && clock_() >= *cached_->expiry)) {
        const auto info = exec_info_json(*config_.exec, config_.server, config_.tls.ca_pem);
        cached_ = parse_exec_credential(runner_(*config_.exec, info), *config_.exec);
    }
    return *cached_;
}

std::string Credentials::authorization() {
    if (!may_send()) {
        return {};
    }
    if (!config_.token.empty()) {
        return "Bearer " + config_.token;
    }
    if (!config_.token_file.empty()) {
        auto token = read_file_(config_.token_file);
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
            token.pop_back();
        }
        if (token.empty()) {
            throw Error(fmt::format("token file {} is empty", config_.token_file));
        }
        return "Bearer " + token;
    }
    if (config_.exec) {
        std::lock_guard guard(mutex_);
        const auto& credential = exec_credential();
        return credential.token.empty() ? std::string() : "Bearer " + credential.token;
    }
    if (!config_.username.empty() || !config_.password.empty()) {
        return "Basic " + base64_encode(config_.username + ":" + config_.password);
    }
    return {};
}

bool Credentials::invalidate() {
    if (!config_.exec) {
        return false;
    }
    std::lock_guard guard(mutex_);
    cached_.reset();
    return true;
}

std::optional<std::pair<std::string, std::string>> Credentials::exec_client_certificate() {
    if (!config_.exec || !config_.token.empty() || !config_.token_file.empty() || !may_send()) {
        return std::nullopt;
    }
    std::lock_guard guard(mutex_);
    const auto& credential = exec_credential();
    if (credential.client_certificate_pem.empty()) {
        return std::nullopt;
    }
    return std::make_pair(credential.client_certificate_pem, credential.client_key_pem);
}

}  // namespace cmsync::kube
