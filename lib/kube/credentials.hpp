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

/// Supplies the Authorization header for a RestConfig: a static token, a token file (read
/// again after kTokenFileRefresh, and at once after a 401), basic auth, or an exec plugin whose
/// result is cached until it expires. None over plain http, as kubectl: `warn` hears once that they
/// are held back. Thread-safe.
class Credentials {
  public:
    Credentials(const RestConfig& config, ExecRunner runner, FileReader read_file, Clock clock,
                WarningSink warn = nullptr);

    /// The Authorization header value, or an empty string for none.
    std::string authorization();
    /// Called after a 401: forgets cached exec output, reads a token file again. True when
    /// asking again may help (for a token file: its content changed).
    bool invalidate();
    /// TLS client certificate/key from the exec plugin, if it returned one (runs it if needed).
    std::optional<std::pair<std::string, std::string>> exec_client_certificate();

  private:
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
    std::once_flag warned_;
    std::mutex mutex_;
    std::optional<ExecCredential> cached_;
    std::string file_token_;
    std::chrono::system_clock::time_point file_token_read_{};
};

}  // namespace cmsync::kube
