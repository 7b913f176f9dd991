#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "kube/exec_credential.hpp"
#include "kube/rest_config.hpp"

namespace cmsync::kube {

using FileReader = std::function<std::string(const std::string& path)>;
using Clock = std::function<std::chrono::system_clock::time_point()>;
using WarningSink = std::function<void(const std::string&)>;

/// How long a token file's content is used before it is read again: the kubelet rotates
/// projected ServiceAccount tokens (client-go's cached file token source re-reads every minute).
constexpr std::chrono::minutes kTokenFileRefresh{1};

/// Reads a config's credentials again from where they came from (a cluster Secret): the config
/// as it is now. Throws Error when it cannot (the message names no value).
using CredentialReload = std::function<RestConfig()>;

/// After a reload, a 401 within this long reads nothing again: the requests that were in
/// flight with the old token get 401 together, and one read serves them all.
constexpr std::chrono::seconds kReloadMinInterval{1};

/// Supplies the Authorization header for a RestConfig: a static token, a token file (read
/// again after kTokenFileRefresh, and at once after a 401), basic auth, or an exec plugin whose
/// result is cached until it expires. None over plain http, as kubectl: `warn` hears once that they
/// are held back. With `reload` (a cluster from a Secret), the token, basic auth and exec
/// plugin are read again after a 401, so a rotated Secret is used without a restart; the
/// server and TLS settings stay as first read (`warn` hears that they changed). Thread-safe.
class Credentials {
  public:
    Credentials(const RestConfig& config, ExecRunner runner, FileReader read_file, Clock clock,
                WarningSink warn = nullptr, CredentialReload reload = nullptr);

    /// The Authorization header value, or an empty string for none.
    std::string authorization();
    /// Called after a 401 (or when the credentials' source is known to have changed: a watch
    /// on the cluster Secret may call it): forgets cached exec output, reads a token file
    /// again, reloads (`reload`, at most once per kReloadMinInterval). True when asking again
    /// may help (a token file or reloaded credentials changed; an exec plugin is run again).
    bool invalidate();
    /// TLS client certificate/key from the exec plugin, if it returned one (runs it if needed).
    std::optional<std::pair<std::string, std::string>> exec_client_certificate();

  private:
    /// The credentials a reload may replace (the rest of config_ stays).
    struct Auth {
        std::string token;
        std::string username;
        std::string password;
        std::optional<ExecConfig> exec;
        bool operator==(const Auth&) const = default;
    };
    static Auth auth_of(const RestConfig& config);
    bool reload();                            // requires mutex_
    const ExecCredential& exec_credential();  // requires mutex_
    void read_token_file();                   // requires mutex_
    std::chrono::system_clock::time_point now() const;
    /// False, after warning once, when there are credentials but the server is not https.
    bool may_send();

    const RestConfig& config_;
    ExecRunner runner_;
    FileReader read_file_;
    Clock clock_;
    WarningSink warn_;
    CredentialReload reload_;
    std::once_flag warned_;
    std::once_flag warned_tls_;
    std::mutex mutex_;
    Auth auth_;
    std::optional<std::chrono::system_clock::time_point> reloaded_at_;
    bool reload_changed_ = false;  ///< what the last reload found
    std::optional<ExecCredential> cached_;
    std::string file_token_;
    std::chrono::system_clock::time_point file_token_read_{};
};

}  // namespace cmsync::kube
