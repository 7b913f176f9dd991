// Proxies as kubectl chooses them, checked as a table and against a real proxy on loopback.
#include "http/proxy.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>

#include "http/curl_transport.hpp"
#include "loopback_server.hpp"

using namespace cmsync::http;

TEST_CASE("choose_proxy: kubeconfig proxy-url first, else the environment as Go reads it") {
    const ProxyEnvironment env{"http://hp:3128", "http://hsp:3128", ""};
    const auto row = [](const std::string& server, const std::string& proxy_url,
                        const ProxyEnvironment& e, const std::string& expected) {
        CAPTURE(server);
        CAPTURE(e.no_proxy);
        CHECK(choose_proxy(server, proxy_url, e) == expected);
    };
    SUBCASE("proxy-url wins, even for loopback and with NO_PROXY=*") {
        row("https://127.0.0.1:6443", "http://p:1", {"", "", "*"}, "http://p:1");
    }
    SUBCASE("https uses HTTPS_PROXY, http uses HTTP_PROXY") {
        row("https://api.example.com", "", env, "http://hsp:3128");
        row("http://api.example.com", "", env, "http://hp:3128");
    }
    SUBCASE("nothing set: direct") {
        row("https://api.example.com", "", {}, "");
    }
    SUBCASE("loopback and localhost bypass the environment's proxy") {
        for (const std::string server :
             {"https://127.0.0.1:6443", "https://127.3.2.1", "https://[::1]:6443",
              "https://localhost:6443", "https://LOCALHOST"}) {
            row(server, "", env, "");
        }
    }
    SUBCASE("NO_PROXY entries") {
        const auto no_proxy = [&](const std::string& entries) {
            return ProxyEnvironment{"", "http://hsp:3128", entries};
        };
        row("https://api.example.com", "", no_proxy("example.com"), "");
        row("https://example.com", "", no_proxy("example.com"), "");
        row("https://example.com", "", no_proxy(".example.com"), "http://hsp:3128");
        row("https://api.example.com", "", no_proxy("*.example.com"), "");
        row("https://badexample.com", "", no_proxy("example.com"), "http://hsp:3128");
        row("https://api.example.com:6443", "", no_proxy(" x.org , API.example.com:6443"), "");
        row("https://api.example.com", "", no_proxy("api.example.com:6443"), "http://hsp:3128");
        row("https://api.example.com", "", no_proxy("example.com:443"), "");
        row("https://10.1.2.3:6443", "", no_proxy("10.0.0.0/8"), "");
        row("https://11.1.2.3:6443", "", no_proxy("10.0.0.0/8"), "http://hsp:3128");
        row("https://10.1.2.3:6443", "", no_proxy("10.1.2.3"), "");
        row("https://[fd00::5]:6443", "", no_proxy("fd00::/8"), "");
        row("https://[fd00::5]:6443", "", no_proxy("fd00::5"), "");
        row("https://anything", "", no_proxy("*"), "");
    }
}

namespace {

// Sets (or unsets) an environment variable for a scope: libcurl reads proxy variables itself.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        ::setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }

  private:
    const char* name_;
    std::optional<std::string> old_;
};

void answer_ok(int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
}

}  // namespace

TEST_CASE("proxies against a real proxy on loopback") {
    LoopbackServer proxy(answer_ok);  // answers absolute-form requests itself, as a proxy would
    LoopbackServer server(answer_ok);
    const ProxyEnvironment env{proxy.url(), proxy.url(), ""};
    SUBCASE("HTTP_PROXY carries requests to a remote server") {
        const std::string remote = "http://cluster.invalid:8080";
        CurlOptions options;
        options.proxy_url = choose_proxy(remote, "", env);
        CurlTransport transport(options);
        CHECK(transport.send(Request{"GET", remote + "/api", {}, ""}).status == 200);
        REQUIRE(proxy.heads().size() == 1);
        CHECK(proxy.heads()[0].rfind("GET http://cluster.invalid:8080/api HTTP/1.1\r\n", 0) == 0);
    }
    SUBCASE("a loopback server is reached directly, whatever the environment says") {
        const ScopedEnv all("ALL_PROXY", proxy.url().c_str());
        const ScopedEnv http("http_proxy", proxy.url().c_str());
        CurlOptions options;
        options.proxy_url = choose_proxy(server.url(), "", env);
        CurlTransport transport(options);
        CHECK(transport.send(Request{"GET", server.url() + "/api", {}, ""}).status == 200);
        CHECK(proxy.heads().empty());
        CHECK(server.heads().size() == 1);
    }
    SUBCASE("a kubeconfig proxy-url is used despite NO_PROXY, for loopback too") {
        const ScopedEnv no_proxy("NO_PROXY", "*");
        CurlOptions options;
        options.proxy_url = choose_proxy(server.url(), proxy.url(), {"", "", "*"});
        CurlTransport transport(options);
        CHECK(transport.send(Request{"GET", server.url() + "/api", {}, ""}).status == 200);
        CHECK(proxy.heads().size() == 1);
        CHECK(server.heads().empty());
    }
}
