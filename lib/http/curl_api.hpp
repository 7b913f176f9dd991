#pragma once

#include <curl/curl.h>

namespace cmsync::http {

/// libcurl's entry points, loaded with dlopen the first time a command talks to a cluster.
/// Linking libcurl would make every start pay for loading it and the ~30 libraries it pulls in
/// (TLS, HTTP/2, Kerberos, LDAP, ...): most of `kubectl cmsync version`'s time, and of shell
/// completion's. Types come from <curl/curl.h>, so calls are checked as usual.
struct CurlApi {
    decltype(&::curl_global_init) global_init;
    decltype(&::curl_easy_init) easy_init;
    decltype(&::curl_easy_cleanup) easy_cleanup;
    decltype(&::curl_easy_reset) easy_reset;
    decltype(&::curl_easy_setopt) easy_setopt;
    decltype(&::curl_easy_getinfo) easy_getinfo;
    decltype(&::curl_easy_perform) easy_perform;
    decltype(&::curl_easy_strerror) easy_strerror;
    decltype(&::curl_slist_append) slist_append;
    decltype(&::curl_slist_free_all) slist_free_all;
    decltype(&::curl_share_init) share_init;
    decltype(&::curl_share_setopt) share_setopt;
    decltype(&::curl_share_cleanup) share_cleanup;
    decltype(&::curl_multi_init) multi_init;
    decltype(&::curl_multi_setopt) multi_setopt;
    decltype(&::curl_multi_add_handle) multi_add_handle;
    decltype(&::curl_multi_remove_handle) multi_remove_handle;
    decltype(&::curl_multi_perform) multi_perform;
    decltype(&::curl_multi_poll) multi_poll;
    decltype(&::curl_multi_wakeup) multi_wakeup;
    decltype(&::curl_multi_info_read) multi_info_read;
    decltype(&::curl_multi_cleanup) multi_cleanup;
};

/// The loaded API (loaded once, thread-safe). Throws TransportError naming the library when it
/// cannot be loaded or lacks an entry point.
const CurlApi& curl();

}  // namespace cmsync::http
