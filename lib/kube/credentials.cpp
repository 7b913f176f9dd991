#include "kube/credentials.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "kube/base64.hpp"

namespace cmsync::kube {

Credentials::Credentials(const RestConfig& config, ExecRunner runner, FileReader read_file,
                         Clock clock, WarningSink warn, CredentialReload reload)
    : config_(config),
      runner_(std::move(runner)),
      read_file_(std::move(read_file)),
      clock_(std::move(clock)),
      warn_(std::move(warn)),
      reload_(std::move(reload)),
      auth_(auth_of(config)) {}

Credentials::Auth Credentials::auth_of(const RestConfig& config) {
    return {config.token, config.username, config.password, config.exec};
}

bool Credentials::may_send() {
    if (uses_tls(config_)) {
        return true;
    }
    const bool configured = !auth_.token.empty() || !config_.token_file.empty() || auth_.exec ||
                            !auth_.username.empty() || !auth_.password.empty();
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
        const auto info = exec_info_json(*auth_.exec, config_.server, config_.tls.ca_pem);
        cached_ = parse_exec_credential(runner_(*auth_.exec, info), *auth_.exec);
    }
    return *cached_;
}

std::string Credentials::authorization() {
    std::lock_guard guard(mutex_);
    if (!may_send()) {
        return {};
    }
    if (!auth_.token.empty()) {
        return "Bearer " + auth_.token;
    }
    if (!config_.token_file.empty()) {
        if (file_token_.empty() || now() - file_token_read_ >= kTokenFileRefresh) {
            read_token_file();
        }
        return "Bearer " + file_token_;
    }
    if (auth_.exec) {
        const auto& credential = exec_credential();
        return credential.token.empty() ? std::string() : "Bearer " + credential.token;
    }
    if (!auth_.username.empty() || !auth_.password.empty()) {
        return "Basic " + base64_encode(auth_.username + ":" + auth_.password);
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

bool Credentials::reload() {
    const auto at = now();
    if (reloaded_at_ && at - *reloaded_at_ < kReloadMinInterval) {
        return reload_changed_;
    }
    reloaded_at_ = at;
    RestConfig fresh;
    try {
        fresh = reload_();
    } catch (const Error& e) {
        // Keep what works, if anything does: the source may come back (errors name no value).
        if (warn_) {
            warn_(fmt::format("{}: reading the credentials again failed: {}", config_.server,
                              e.what()));
        }
        reload_changed_ = false;
        return false;
    }
    const auto& tls = config_.tls;
    const auto& now_tls = fresh.tls;
    if (fresh.server != config_.server || now_tls.ca_pem != tls.ca_pem ||
        now_tls.cert_pem != tls.cert_pem || now_tls.key_pem != tls.key_pem ||
        now_tls.insecure_skip_verify != tls.insecure_skip_verify ||
        now_tls.server_name != tls.server_name) {
        if (warn_) {
            std::call_once(warned_tls_, [&] {
                warn_(
                    fmt::format("{}: the server or TLS settings of its source changed: they "
                                "take effect when cmsync restarts (credentials at once)",
                                config_.server));
            });
        }
    }
    auto auth = auth_of(fresh);
    reload_changed_ = !(auth == auth_);
    if (reload_changed_) {
        auth_ = std::move(auth);
        cached_.reset();
    }
    return reload_changed_;
}

bool Credentials::invalidate() {
    std::lock_guard guard(mutex_);
    if (reload_) {
        const bool changed = reload();
        if (!auth_.token.empty() || !auth_.exec) {
            return changed;
        }
        cached_.reset();  // the same exec plugin: its credential may have expired early
        return true;
    }
    if (!config_.token_file.empty() && config_.token.empty()) {
        // A 401 may mean the kubelet rotated the token since it was read: read it again now,
        // and ask again only when it changed.
        const auto before = file_token_;
        read_token_file();
        return file_token_ != before;
    }
    if (!config_.exec) {
        return false;
    }
    cached_.reset();
    return true;
}

std::optional<std::pair<std::string, std::string>> Credentials::exec_client_certificate() {
    std::lock_guard guard(mutex_);
    if (!auth_.exec || !auth_.token.empty() || !config_.token_file.empty() || !may_send()) {
        return std::nullopt;
    }
    const auto& credential = exec_credential();
    if (credential.client_certificate_pem.empty()) {
        return std::nullopt;
    }
    return std::make_pair(credential.client_certificate_pem, credential.client_key_pem);
}

}  // namespace cmsync::kube
