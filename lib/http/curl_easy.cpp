#include "http/curl_easy.hpp"

#include <fmt/format.h>

#include "http/curl_api.hpp"

namespace cmsync::http {

struct PerformState {
    CURL* handle;
    Response* response;
    const BodySink* sink;
    const CancelCheck* cancelled;
    bool stopped_on_purpose = false;       ///< by the sink, a cancel, or an error body cut short
    bool cancelled_while_sending = false;  ///< a cancel without a sink: the caller gets no answer
};

namespace {

bool cancel_now(PerformState& state) {
    if (state.cancelled == nullptr || !(*state.cancelled)()) {
        return false;
    }
    state.stopped_on_purpose = true;
    state.cancelled_while_sending = state.sink == nullptr;
    return true;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return cancel_now(*static_cast<PerformState*>(user)) ? 1 : 0;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* state = static_cast<PerformState*>(user);
    std::string_view line(data, size * count);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    if (line.rfind("HTTP/", 0) == 0) {
        state->response->headers.clear();  // a new response (after 100 or a proxy CONNECT)
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        state->response->headers.emplace_back(std::string(line.substr(0, colon)),
                                              std::string(value));
    }
    return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* state = static_cast<PerformState*>(user);
    const std::string_view chunk(data, size * count);
    long status = 0;
    curl().easy_getinfo(state->handle, CURLINFO_RESPONSE_CODE, &status);
    const bool success = status >= 200 && status < 300;
    if (state->sink != nullptr && success) {
        if (!(*state->sink)(chunk) || (state->cancelled != nullptr && (*state->cancelled)())) {
            state->stopped_on_purpose = true;
            return 0;
        }
        return chunk.size();
    }
    auto& body = state->response->body;
    if (!success && body.size() + chunk.size() > kMaxErrorBody) {
        // Keep what can be shown and stop reading: an error body may be endless.
        body.append(chunk.substr(0, kMaxErrorBody - body.size()));
        state->stopped_on_purpose = true;
        return 0;
    }
    body.append(chunk);
    return chunk.size();
}

std::string without_query(const std::string& url) {
    return url.substr(0, url.find('?'));
}

}  // namespace

CurlEasy::CurlEasy() : handle_(curl().easy_init()) {
    if (handle_ == nullptr) {
        throw TransportError("curl_easy_init failed");
    }
}

CurlEasy::~CurlEasy() {
    state_.reset();
    if (handle_ != nullptr) {
        curl().easy_cleanup(handle_);
    }
    curl().slist_free_all(header_list_);
    curl().slist_free_all(connect_to_);
}

CurlEasy::CurlEasy(CurlEasy&& other) noexcept
    : handle_(other.handle_),
      header_list_(other.header_list_),
      connect_to_(other.connect_to_),
      state_(std::move(other.state_)),
      body_(std::move(other.body_)),
      url_(std::move(other.url_)),
      dialled_(std::move(other.dialled_)),
      method_(std::move(other.method_)) {
    other.handle_ = nullptr;
    other.header_list_ = nullptr;
    other.connect_to_ = nullptr;
}

template <typename T>
void CurlEasy::set(CURLoption option, T value) {
    const CURLcode code = curl().easy_setopt(handle_, option, value);
    if (code != CURLE_OK) {
        throw TransportError(fmt::format("curl option {}: {}", static_cast<int>(option),
                                         curl().easy_strerror(code)));
    }
}

void CurlEasy::reset() {
    curl().easy_reset(handle_);
    curl().slist_free_all(header_list_);
    header_list_ = nullptr;
    curl().slist_free_all(connect_to_);
    connect_to_ = nullptr;
    body_.clear();
    // libcurl speaks file, dict, gopher, ftp, ...: a URL from a kubeconfig or a redirect must
    // never reach them.
    if (curl().easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK) {
        set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        return;
    }
    // libcurl before 7.85 (Ubuntu 22.04 has 7.81) knows only the bitmask options, since
    // deprecated: named by number so that newer headers do not warn.
    constexpr auto kProtocols = static_cast<CURLoption>(CURLOPTTYPE_LONG + 181);
    constexpr auto kRedirProtocols = static_cast<CURLoption>(CURLOPTTYPE_LONG + 182);
    set(kProtocols, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    set(kRedirProtocols, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
}

void CurlEasy::set_url(const std::string& url, const std::string& dialled) {
    url_ = url;
    dialled_ = dialled.empty() ? url : dialled;
    set(CURLOPT_URL, url_.c_str());
}

void CurlEasy::set_method(const std::string& method, const std::string& body) {
    method_ = method;
    body_ = body;
    if (method == "GET") {
        set(CURLOPT_HTTPGET, 1L);
        return;
    }
    set(CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method != "DELETE" || !body_.empty()) {
        set(CURLOPT_POSTFIELDS, body_.data());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    }
}

void CurlEasy::set_headers(const Headers& headers) {
    for (const auto& [key, value] : headers) {
        header_list_ = curl().slist_append(header_list_, (key + ": " + value).c_str());
    }
    // curl adds "Expect: 100-continue" to large bodies; the apiserver does not need it.
    header_list_ = curl().slist_append(header_list_, "Expect:");
    set(CURLOPT_HTTPHEADER, header_list_);
}

void CurlEasy::set_share(CURLSH* share) {
    set(CURLOPT_SHARE, share);
}

void CurlEasy::set_user_agent(const std::string& agent) {
    set(CURLOPT_USERAGENT, agent.c_str());
}

void CurlEasy::set_accept_encoding_all() {
    set(CURLOPT_ACCEPT_ENCODING, "");
}

void CurlEasy::set_http2() {
    set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
}

void CurlEasy::set_buffer_size(long bytes) {
    set(CURLOPT_BUFFERSIZE, bytes);
}

void CurlEasy::set_http11() {
    set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
}

void CurlEasy::set_pipewait() {
    set(CURLOPT_PIPEWAIT, 1L);
}

void CurlEasy::set_connect_to(const std::string& mapping) {
    curl().slist_free_all(connect_to_);
    connect_to_ = curl().slist_append(nullptr, mapping.c_str());
    set(CURLOPT_CONNECT_TO, connect_to_);
}

void CurlEasy::set_proxy(const std::string& url) {
    // Both set, even when empty, so that libcurl reads no proxy variable of its own (it would
    // apply ALL_PROXY, and NO_PROXY to a kubeconfig's proxy-url, unlike kubectl).
    set(CURLOPT_PROXY, url.c_str());
    set(CURLOPT_NOPROXY, "");
}

void CurlEasy::set_timeout(std::chrono::milliseconds timeout) {
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
}

void CurlEasy::set_connect_timeout(std::chrono::milliseconds timeout) {
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
}

void CurlEasy::set_tcp_keepalive(std::chrono::seconds idle) {
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_TCP_KEEPIDLE, static_cast<long>(idle.count()));
    set(CURLOPT_TCP_KEEPINTVL, static_cast<long>(idle.count()));
}

void CurlEasy::set_tls(const std::string& ca_file, const std::string& ca_pem,
                       const std::string& cert_file, const std::string& cert_pem,
                       const std::string& key_file, const std::string& key_pem, bool verify) {
    set(CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    // curl copies blobs with CURL_BLOB_COPY, so the strings may go away afterwards.
    auto blob = [](const std::string& pem) {
        return curl_blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
    };
    if (!ca_pem.empty()) {
        auto b = blob(ca_pem);
        set(CURLOPT_CAINFO_BLOB, &b);
    } else if (!ca_file.empty()) {
        set(CURLOPT_CAINFO, ca_file.c_str());
    }
    if (!cert_pem.empty()) {
        auto b = blob(cert_pem);
        set(CURLOPT_SSLCERT_BLOB, &b);
        set(CURLOPT_SSLCERTTYPE, "PEM");
    } else if (!cert_file.empty()) {
        set(CURLOPT_SSLCERT, cert_file.c_str());
    }
    if (!key_pem.empty()) {
        auto b = blob(key_pem);
        set(CURLOPT_SSLKEY_BLOB, &b);
        set(CURLOPT_SSLKEYTYPE, "PEM");
    } else if (!key_file.empty()) {
        set(CURLOPT_SSLKEY, key_file.c_str());
    }
}

void CurlEasy::begin(Response& response, const BodySink* sink, const CancelCheck* cancelled) {
    state_ = std::make_unique<PerformState>(PerformState{handle_, &response, sink, cancelled});
    error_buffer_[0] = '\0';
    if (cancelled != nullptr) {
        set(CURLOPT_NOPROGRESS, 0L);
        set(CURLOPT_XFERINFOFUNCTION, &on_progress);
        set(CURLOPT_XFERINFODATA, state_.get());
    }
    set(CURLOPT_ERRORBUFFER, error_buffer_);
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, state_.get());
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, state_.get());
    set(CURLOPT_NOSIGNAL, 1L);
}

void CurlEasy::finish(CURLcode code) {
    set(CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
    const bool stopped_on_purpose = state_ && state_->stopped_on_purpose;
    const bool cancelled_while_sending = state_ && state_->cancelled_while_sending;
    if (state_) {
        curl().easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &state_->response->status);
    }
    state_.reset();
    if (cancelled_while_sending) {
        throw TransportError(
            fmt::format("gave up on {} ({}): cancelled", without_query(dialled_), method_));
    }
    if (code == CURLE_OK ||
        ((code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK) && stopped_on_purpose)) {
        return;
    }
    const std::string detail =
        error_buffer_[0] != '\0' ? error_buffer_ : curl().easy_strerror(code);
    std::string what = "cannot reach";
    bool transient = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                     code == CURLE_SEND_ERROR;
    if (code == CURLE_OPERATION_TIMEDOUT) {
        what = "timed out talking to";
        transient = true;
    } else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
               code == CURLE_SSL_CERTPROBLEM) {
        what = "TLS failure with";
    } else if (code == CURLE_SSL_CONNECT_ERROR) {
        what = "TLS failure with";
        transient = true;  // also a connection dropped during the handshake
    } else if (code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR ||
               code == CURLE_HTTP2_STREAM || code == CURLE_HTTP2 || code == CURLE_GOT_NOTHING) {
        what = "connection lost to";
        transient = true;
    }
    throw TransportError(
        fmt::format("{} {} ({}): {}", what, without_query(dialled_), method_, detail), transient);
}

bool CurlEasy::cancel_due() {
    return state_ && cancel_now(*state_);
}

void CurlEasy::perform(Response& response, const BodySink* sink, const CancelCheck* cancelled) {
    begin(response, sink, cancelled);
    finish(curl().easy_perform(handle_));
}

}  // namespace cmsync::http
