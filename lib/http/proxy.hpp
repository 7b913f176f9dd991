#pragma once

#include <string>

namespace cmsync::http {

/// The proxy settings of the process environment (read by cmd/, passed in).
struct ProxyEnvironment {
    std::string http_proxy;   ///< $HTTP_PROXY, else $http_proxy
    std::string https_proxy;  ///< $HTTPS_PROXY, else $https_proxy
    std::string no_proxy;     ///< $NO_PROXY, else $no_proxy
};

/// The proxy for requests to `server`, as kubectl (client-go) chooses it: the kubeconfig's
/// `proxy_url` whenever set (NO_PROXY does not apply to it); else HTTPS_PROXY for an https
/// server or HTTP_PROXY for an http one, unless the host is localhost or a loopback address or
/// matches NO_PROXY (Go's http.ProxyFromEnvironment; ALL_PROXY is not read). Empty: connect
/// directly.
std::string choose_proxy(const std::string& server, const std::string& proxy_url,
                         const ProxyEnvironment& env);

}  // namespace cmsync::http
