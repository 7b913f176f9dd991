#include "http/curl_api.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>

#include "http/transport.hpp"

namespace cmsync::http {

namespace {

// The soname of libcurl's ABI since 2006, as a link against -lcurl would record it.
constexpr const char* kLibrary = "libcurl.so.4";

template <typename F>
void bind(void* library, F& entry, const char* symbol) {
    entry = reinterpret_cast<F>(dlsym(library, symbol));
    if (entry == nullptr) {
        throw TransportError(
            fmt::format("{} has no {}: libcurl 7.77 or newer is needed", kLibrary, symbol));
    }
}

CurlApi load() {
    // Never closed: the handles live as long as the process.
    void* library = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
        const char* why = dlerror();
        throw TransportError(fmt::format("cannot load {} (install libcurl4): {}", kLibrary,
                                         why != nullptr ? why : "unknown error"));
    }
    CurlApi api{};
    bind(library, api.global_init, "curl_global_init");
    bind(library, api.easy_init, "curl_easy_init");
    bind(library, api.easy_cleanup, "curl_easy_cleanup");
    bind(library, api.easy_reset, "curl_easy_reset");
    bind(library, api.easy_setopt, "curl_easy_setopt");
    bind(library, api.easy_getinfo, "curl_easy_getinfo");
    bind(library, api.easy_perform, "curl_easy_perform");
    bind(library, api.easy_strerror, "curl_easy_strerror");
    bind(library, api.slist_append, "curl_slist_append");
    bind(library, api.slist_free_all, "curl_slist_free_all");
    bind(library, api.share_init, "curl_share_init");
    bind(library, api.share_setopt, "curl_share_setopt");
    bind(library, api.share_cleanup, "curl_share_cleanup");
    bind(library, api.multi_init, "curl_multi_init");
    bind(library, api.multi_setopt, "curl_multi_setopt");
    bind(library, api.multi_add_handle, "curl_multi_add_handle");
    bind(library, api.multi_remove_handle, "curl_multi_remove_handle");
    bind(library, api.multi_perform, "curl_multi_perform");
    bind(library, api.multi_poll, "curl_multi_poll");
    bind(library, api.multi_wakeup, "curl_multi_wakeup");
    bind(library, api.multi_info_read, "curl_multi_info_read");
    bind(library, api.multi_cleanup, "curl_multi_cleanup");
    if (const auto code = api.global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
        throw TransportError(fmt::format("curl_global_init: {}", api.easy_strerror(code)));
    }
    return api;
}

}  // namespace

const CurlApi& curl() {
    // A failed load throws out of the initialiser and is tried again by the next call.
    static const CurlApi api = load();
    return api;
}

}  // namespace cmsync::http
