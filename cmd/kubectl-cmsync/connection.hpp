#pragma once

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "global_options.hpp"
#include "http/client.hpp"
#include "http/curl_transport.hpp"
#include "kube/api_client.hpp"
#include "kube/config_loader.hpp"
#include "kube/credentials.hpp"

namespace cmsync::cli {

/// The process environment as the core needs it.
kube::Environment read_environment();
/// The kubeconfig loader's view of the disk.
kube::ConfigFiles disk_files();

/// Everything between the command and the API server, built from flags, files and the
/// environment; logs go to the process log.
class Connection {
  public:
    /// Throws Error when the kubeconfig cannot be read or resolved. `cancel` aborts every
    /// request once true (see http::CurlOptions::cancel).
    /// `observe` hears each request attempt (metrics).
    explicit Connection(const GlobalOptions& options, http::CancelCheck cancel = nullptr,
                        http::RequestObserver observe = nullptr);
    /// A connection to a cluster the kubeconfig does not hold (a cluster Secret): `config` as
    /// read, `reload` to read its credentials again after a 401 (kube::Credentials). The
    /// options give logging, limits and --request-timeout; their connection flags are not used.
    Connection(const GlobalOptions& options, kube::RestConfig config, kube::CredentialReload reload,
               http::CancelCheck cancel = nullptr, http::RequestObserver observe = nullptr);
    kube::ApiClient& api() { return *api_; }
    /// Another client on the same connection whose requests give up after `budget` (leader
    /// election and Events must not hang on a stalled server). Lives as long as this.
    kube::ApiClient& api_with_budget(std::chrono::milliseconds budget);
    const kube::RestConfig& config() const { return config_; }
    /// Has open streams poll their cancel checks now (http::Transport::wake_streams).
    void wake_streams() { transport_->wake_streams(); }

  private:
    void start(const GlobalOptions& options, kube::CredentialReload reload,
               http::CancelCheck cancel, http::RequestObserver observe);

    kube::RestConfig config_;
    std::unique_ptr<kube::Credentials> credentials_;
    std::unique_ptr<http::CurlTransport> transport_;
    std::unique_ptr<http::Client> http_;
    std::unique_ptr<kube::ApiClient> api_;
    http::ClientOptions client_options_;
    std::vector<std::pair<std::unique_ptr<http::Client>, std::unique_ptr<kube::ApiClient>>> side_;
};

}  // namespace cmsync::cli
