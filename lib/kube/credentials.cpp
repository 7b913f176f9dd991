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
        std::lock_guard guard(mutex_);
        if (file_token_.empty() || now() - file_token_read_ >= kTokenFileRefresh) {
            read_token_file();
        }
        return "Bearer " + file_token_;
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

std::chrono::system_clock::time_point Credentials::now() const {
    return clock_ ? clock_() : std::chrono::system_clock::now();
}

void Credentials::read_token_file() {
    std::string token;
    try {
        token = read_file_(config_.token_file);
    } catch (const Error&) {
        if (file_token_.empty()) {
            throw;
        }
        return;  // as client-go: keep the token read last (the kubelet swaps files atomically)
    }
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
        token.pop_back();
    }
    if (token.empty()) {
        throw Error(fmt::format("token file {} is empty", config_.token_file));
    }
    file_token_ = std::move(token);
    file_token_read_ = now();
}

bool Credentials::invalidate() {
    if (!config_.token_file.empty() && config_.token.empty()) {
        // A 401 may mean the kubelet rotated the token since it was read: read it again now,
        // and ask again only when it changed.
        std::lock_guard guard(mutex_);
        const auto before = file_token_;
        read_token_file();
        return file_token_ != before;
    }
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
