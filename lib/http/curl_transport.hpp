#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http/transport.hpp"

namespace cmsync::http {

/// TLS settings; PEM data wins over the matching file.
struct TlsOptions {
    std::string ca_file;
    std::string ca_pem;
    std::string cert_file;
    std::string cert_pem;
    std::string key_file;
    std::string key_pem;
    /// Verify against this name instead of the URL's host (kubeconfig tls-server-name).
    std::string server_name;
    bool insecure_skip_verify = false;
};

struct CurlOptions {
    TlsOptions tls;
    std::string proxy_url;  ///< from choose_proxy(); empty: none, whatever the environment says
    std::string user_agent;
    std::chrono::milliseconds connect_timeout{10000};
    /// Polled about once a second during every request and stream; true aborts them (a send
    /// throws TransportError, a stream ends): nothing the network does holds the process then.
    CancelCheck cancel;
};

/// libcurl behind Transport: a pool of easy handles, each keeping its HTTP/1.1 connection alive
/// between requests, sharing DNS and TLS sessions; requests may run from several threads at
/// once. Watch streams share one multiplexed connection (HTTP/2 when the server offers it).
class CurlTransport final : public Transport {
  public:
    explicit CurlTransport(CurlOptions options);
    ~CurlTransport() override;
    CurlTransport(const CurlTransport&) = delete;
    CurlTransport& operator=(const CurlTransport&) = delete;

    Response send(const Request& request) override;
    Response stream(const Request& request, const BodySink& sink,
                    const CancelCheck& cancelled) override;
    /// On the multiplexer: no thread waits for the stream.
    void open_stream(const Request& request, BodySink sink, CancelCheck cancelled,
                     StreamEnded ended) override;
    void wake_streams() override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cmsync::http
