#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>

#include "http/transport.hpp"

namespace cmsync::http {

struct PerformState;

/// A move-only owner of one CURL easy handle with typed setters that throw TransportError.
class CurlEasy {
  public:
    CurlEasy();
    ~CurlEasy();
    CurlEasy(CurlEasy&& other) noexcept;
    CurlEasy& operator=(CurlEasy&&) = delete;
    CurlEasy(const CurlEasy&) = delete;
    CurlEasy& operator=(const CurlEasy&) = delete;

    /// Clears options but for the protocols (http and https only, redirects too); live
    /// connections and caches stay with the handle.
    void reset();
    /// `dialled`, when not empty, is the URL errors name: a tls-server-name stands in for the
    /// host in `url`, but the connection goes to the configured server.
    void set_url(const std::string& url, const std::string& dialled = {});
    void set_method(const std::string& method, const std::string& body);
    void set_headers(const Headers& headers);
    void set_share(CURLSH* share);
    void set_user_agent(const std::string& agent);
    void set_accept_encoding_all();
    void set_http2();  ///< over TLS when the server offers it, else HTTP/1.1
    void set_http11();
    /// The receive buffer each transfer allocates (libcurl's default: 16 KiB).
    void set_buffer_size(long bytes);
    /// Wait for a connection that can multiplex another stream rather than open a new one.
    void set_pipewait();
    void set_connect_to(const std::string& mapping);
    /// The proxy to use, none when empty; libcurl reads no proxy variable of its own then.
    void set_proxy(const std::string& url);
    void set_timeout(std::chrono::milliseconds timeout);
    void set_connect_timeout(std::chrono::milliseconds timeout);
    /// TCP keep-alive probes after `idle` without traffic, then every `idle`: a peer gone
    /// without a word fails the connection, and every stream on it, instead of holding them.
    void set_tcp_keepalive(std::chrono::seconds idle);
    void set_tls(const std::string& ca_file, const std::string& ca_pem,
                 const std::string& cert_file, const std::string& cert_pem,
                 const std::string& key_file, const std::string& key_pem, bool verify);
    /// Runs the request, filling `response`; with a sink, a 2xx body goes to the sink instead.
    /// `cancelled`, when given, is polled during the transfer (about once a second); true aborts
    /// it: quietly with a sink, else with TransportError.
    void perform(Response& response, const BodySink* sink, const CancelCheck* cancelled);
    /// perform() in two halves, for a multi handle that drives the transfer: begin() installs
    /// the callbacks; finish() takes the transfer's result and throws as perform() does.
    void begin(Response& response, const BodySink* sink, const CancelCheck* cancelled);
    void finish(CURLcode code);
    /// Polls the cancel check given to begin() as libcurl's progress callback does (on the
    /// thread driving the transfer); true: end the transfer, finish() takes it as on purpose.
    bool cancel_due();
    CURL* handle() const { return handle_; }

  private:
    template <typename T>
    void set(CURLoption option, T value);

    CURL* handle_;
    curl_slist* header_list_ = nullptr;
    curl_slist* connect_to_ = nullptr;
    std::unique_ptr<PerformState> state_;
    char error_buffer_[CURL_ERROR_SIZE] = {};
    std::string body_;
    std::string url_;
    std::string dialled_;
    std::string method_;
};

}  // namespace cmsync::http
