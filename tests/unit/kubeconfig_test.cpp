#include "kube/kubeconfig.hpp"

#include <doctest/doctest.h>

#include "error.hpp"
#include "kube/rest_config.hpp"

using namespace cmsync::kube;

namespace {

const char* kFirst = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://one.example:6443/
    certificate-authority: certs/ca.crt
    tls-server-name: api.internal
users:
- name: u1
  user:
    token: first-token
    tokenFile: /ignored/because/token/wins
- name: shared
  user: {token: from-first}
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team-a}
)";

const char* kSecond = R"(
current-context: prod
clusters:
- name: c1
  cluster: {server: https://loses.example}
- name: c2
  cluster:
    server: https://two.example
    certificate-authority-data: aGVsbG8=
    insecure-skip-tls-verify: true
    proxy-url: http://proxy:3128
users:
- name: shared
  user: {token: from-second}
- name: u2
  user:
    client-certificate: /abs/cert.pem
    client-key-data: a2V5
    as: alice
    as-groups: [devs, ops]
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: get-token
      args: [--cluster, x]
      env: [{name: FOO, value: bar}]
      provideClusterInfo: true
contexts:
- name: prod
  context: {cluster: c2, user: u2}
)";

}  // namespace

TEST_CASE("kubeconfig_paths: --kubeconfig, else KUBECONFIG, else ~/.kube/config") {
    CHECK(kubeconfig_paths("/f", std::string("/a:/b"), "/home/u") ==
          std::vector<std::string>{"/f"});
    CHECK(kubeconfig_paths("", std::string("/a::/b:/a:"), "/home/u") ==
          std::vector<std::string>{"/a", "/b"});
    CHECK(kubeconfig_paths("", std::nullopt, "/home/u") ==
          std::vector<std::string>{"/home/u/.kube/config"});
    CHECK(kubeconfig_paths("", std::string(""), "/home/u") ==
          std::vector<std::string>{"/home/u/.kube/config"});
}

TEST_CASE("parse_kubeconfig resolves relative paths and decodes data fields") {
    const auto first = parse_kubeconfig(kFirst, "/etc/kube/first.yaml");
    CHECK(first.clusters.at("c1").first.certificate_authority == "/etc/kube/certs/ca.crt");
    CHECK(first.clusters.at("c1").first.tls_server_name == "api.internal");
    const auto second = parse_kubeconfig(kSecond, "/x/second");
    const auto& c2 = second.clusters.at("c2").first;
    CHECK(c2.certificate_authority_data == "hello");
    CHECK(c2.insecure_skip_tls_verify);
    CHECK(c2.proxy_url == "http://proxy:3128");
    const auto& u2 = second.users.at("u2").first;
    CHECK(u2.client_key_data == "key");
    CHECK(u2.as_groups == std::vector<std::string>{"devs", "ops"});
    REQUIRE(u2.exec);
    CHECK(u2.exec->command == "get-token");
    CHECK(u2.exec->args == std::vector<std::string>{"--cluster", "x"});
    CHECK(u2.exec->env.front() == std::make_pair(std::string("FOO"), std::string("bar")));
    CHECK(u2.exec->provide_cluster_info);
}

TEST_CASE("merge: the first file that sets a value or map key wins") {
    const auto merged = merge_kubeconfigs(
        {parse_kubeconfig(kFirst, "/etc/kube/first.yaml"), parse_kubeconfig(kSecond, "/x/second")});
    CHECK(merged.current_context == "dev");
    CHECK(merged.clusters.at("c1").first.server == "https://one.example:6443/");
    CHECK(merged.clusters.at("c1").second == "/etc/kube/first.yaml");
    CHECK(merged.clusters.count("c2") == 1);
    CHECK(merged.users.at("shared").first.token == "from-first");
    CHECK(merged.files == std::vector<std::string>{"/etc/kube/first.yaml", "/x/second"});
}

TEST_CASE("resolve_rest_config") {
    const auto merged = merge_kubeconfigs(
        {parse_kubeconfig(kFirst, "/etc/kube/first.yaml"), parse_kubeconfig(kSecond, "/x/second")});
    SUBCASE("current context, token wins over tokenFile, trailing slash dropped") {
        const auto rc = resolve_rest_config(merged, {});
        CHECK(rc.server == "https://one.example:6443");
        CHECK(rc.token == "first-token");
        CHECK(rc.token_file.empty());
        CHECK(rc.namespace_name == "team-a");
        CHECK(rc.tls.server_name == "api.internal");
    }
    SUBCASE("--context picks another; namespace defaults to default") {
        ConnectionFlags flags;
        flags.context = "prod";
        const auto rc = resolve_rest_config(merged, flags);
        CHECK(rc.server == "https://two.example");
        CHECK(rc.namespace_name == "default");
        CHECK(rc.tls.insecure_skip_verify);
        CHECK(rc.impersonate_user == "alice");
        CHECK(rc.exec);
    }
    SUBCASE("flags override the file") {
        ConnectionFlags flags;
        flags.server = "https://flag.example";
        flags.token = "flag-token";
        flags.namespace_name = "ns-x";
        flags.insecure_skip_tls_verify = false;
        flags.as = "bob";
        flags.context = "prod";
        const auto rc = resolve_rest_config(merged, flags);
        CHECK(rc.server == "https://flag.example");
        CHECK(rc.token == "flag-token");
        CHECK_FALSE(rc.exec);
        CHECK(rc.namespace_name == "ns-x");
        CHECK_FALSE(rc.tls.insecure_skip_verify);
        CHECK(rc.impersonate_user == "bob");
    }
    SUBCASE("a bare host:port is https with TLS settings, else http (client-go)") {
        ConnectionFlags flags;
        flags.server = "h:6443";
        flags.context = "prod";  // insecure-skip-tls-verify
        CHECK(resolve_rest_config(merged, flags).server == "https://h:6443");
        flags.context.clear();
        CHECK(resolve_rest_config(parse_kubeconfig("{}", "/k"), flags).server == "http://h:6443");
    }
    SUBCASE("only https and http URLs, scheme in any case") {
        ConnectionFlags flags;
        for (const std::string url :
             {"file:///etc/passwd", "gopher://h:70", "dict://h:2628", "ftp://h"}) {
            CAPTURE(url);
            flags.server = url;
            CHECK_THROWS_WITH_AS(
                resolve_rest_config(merged, flags),
                ("server " + url + ": only https and http URLs are supported").c_str(),
                cmsync::Error);
        }
        flags.server = "HTTPS://h";
        CHECK(resolve_rest_config(merged, flags).server == "https://h");
    }
    SUBCASE("user:password@ in the server URL is refused and never echoed") {
        ConnectionFlags flags;
        flags.server = "https://u:s3cret@h:6443/";
        CHECK_THROWS_WITH_AS(resolve_rest_config(merged, flags),
                             "server https://h:6443: user:password@ in the server URL is not "
                             "supported; set the user's username and password instead",
                             cmsync::Error);
    }
    SUBCASE("a missing context names the file and where it was set") {
        auto broken = parse_kubeconfig("current-context: nope\n", "/k/config");
        CHECK_THROWS_WITH_AS(resolve_rest_config(broken, {}),
                             "kubeconfig /k/config: context \"nope\" not found (set by "
                             "current-context in /k/config)",
                             cmsync::Error);
        ConnectionFlags flags;
        flags.context = "gone";
        CHECK_THROWS_WITH_AS(resolve_rest_config(merged, flags),
                             doctest::Contains("context \"gone\" not found (set by --context)"),
                             cmsync::Error);
    }
}

TEST_CASE("malformed kubeconfigs name the file and field") {
    CHECK_THROWS_WITH_AS(parse_kubeconfig("clusters: {a: b}", "/k"),
                         "kubeconfig /k: clusters must be a list", cmsync::Error);
    CHECK_THROWS_WITH_AS(
        parse_kubeconfig("clusters:\n- name: c\n  cluster: {certificate-authority-data: '%%%'}",
                         "/k"),
        "kubeconfig /k: clusters[c].cluster.certificate-authority-data is not valid base64",
        cmsync::Error);
    CHECK_THROWS_WITH_AS(parse_kubeconfig("users:\n- name: u\n  user: {exec: {args: [a]}}", "/k"),
                         "kubeconfig /k: users[u].user.exec.command is required", cmsync::Error);
    CHECK_THROWS_AS(parse_kubeconfig("a: [", "/k"), cmsync::Error);
}

TEST_CASE("in-cluster config") {
    Environment env;
    env.service_host = "10.0.0.1";
    env.service_port = "443";
    const auto rc = in_cluster_config(env, "team-b\n", {});
    CHECK(rc.server == "https://10.0.0.1:443");
    CHECK(rc.token_file == "/var/run/secrets/kubernetes.io/serviceaccount/token");
    CHECK(rc.tls.ca_file == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    CHECK(rc.namespace_name == "team-b");
    env.service_host = "fd00::1";
    CHECK(in_cluster_config(env, "", {}).server == "https://[fd00::1]:443");
}
