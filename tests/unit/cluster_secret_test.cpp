// Clusters from Secrets (issue 30, in the cluster): Cluster API kubeconfig Secrets and Argo CD
// cluster Secrets read into a RestConfig, every refusal one line naming the Secret and the
// field and never a value; and a Secret's credentials read again after a 401.
#include <doctest/doctest.h>

#include "error.hpp"
#include "kube/base64.hpp"
#include "kube/cluster_secret.hpp"
#include "kube/credentials.hpp"

using namespace cmsync::kube;

namespace {

// Values no message may show.
const std::string kToken = "s3cr3t-t0ken-value";
const std::string kPassword = "hunter2-password";
const std::string kCa = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const std::string kCert = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN EC PRIVATE KEY-----\nKEY\n-----END EC PRIVATE KEY-----\n";

Object secret(std::map<std::string, std::string> data) {
    Object out;
    out.kind = kSecret;
    out.namespace_name = "cmsync-system";
    out.name = "member";
    out.type = "Opaque";
    for (auto& [key, value] : data) {
        out.data[key] = Value{value, true};
    }
    return out;
}

Object argo(const std::string& config, const std::string& server = "https://member:6443") {
    auto out = secret({{"name", "member"}, {"server", server}, {"config", config}});
    out.labels[kArgoCdSecretTypeLabel] = "cluster";
    return out;
}

Object cluster_api(const std::string& kubeconfig) {
    auto out = secret({{kClusterApiKubeconfigKey, kubeconfig}});
    out.name = "member-kubeconfig";
    out.type = kClusterApiSecretType;
    out.labels["cluster.x-k8s.io/cluster-name"] = "member";
    return out;
}

// A kubeconfig as Cluster API writes it: one cluster, one user, current-context set.
std::string capi_kubeconfig(const std::string& user_fields,
                            const std::string& current = "member-admin@member") {
    return "apiVersion: v1\nkind: Config\n"
           "clusters:\n- name: member\n  cluster:\n    server: https://member:6443\n"
           "    certificate-authority-data: " +
           base64_encode(kCa) +
           "\n"
           "- name: other\n  cluster: {server: https://other:6443}\n"
           "users:\n- name: member-admin\n  user:\n" +
           user_fields +
           "contexts:\n- name: member-admin@member\n  context: {cluster: member, user: "
           "member-admin}\n"
           "- name: other\n  context: {cluster: other, user: member-admin}\n"
           "current-context: " +
           current + "\n";
}

// The one-line error reading `s` gives; it names the Secret and shows no value.
std::string error_of(const Object& s) {
    try {
        cluster_from_secret(s);
    } catch (const cmsync::Error& e) {
        const std::string message = e.what();
        CHECK(message.find('\n') == std::string::npos);
        CHECK(message.find(s.namespace_name + "/" + s.name) != std::string::npos);
        for (const auto& value : {kToken, kPassword, std::string("CLIENT"), std::string("KEY")}) {
            CHECK(message.find(value) == std::string::npos);
        }
        return message;
    }
    FAIL("no error");
    return {};
}

}  // namespace

TEST_CASE("cluster Secret: Cluster API kubeconfig, its current context") {
    SUBCASE("client certificate, as Cluster API writes it") {
        const auto config = cluster_from_secret(
            cluster_api(capi_kubeconfig("    client-certificate-data: " + base64_encode(kCert) +
                                        "\n    client-key-data: " + base64_encode(kKey) + "\n")));
        CHECK(config.server == "https://member:6443");
        CHECK(config.tls.ca_pem == kCa);
        CHECK(config.tls.cert_pem == kCert);
        CHECK(config.tls.key_pem == kKey);
        CHECK(config.token.empty());
        CHECK(config.context.empty());  // not a context of this process's kubeconfig
    }
    SUBCASE("a token; another current context") {
        const auto config = cluster_from_secret(
            cluster_api(capi_kubeconfig("    token: " + kToken + "\n", "other")));
        CHECK(config.server == "https://other:6443");
        CHECK(config.token == kToken);
        CHECK(config.tls.ca_pem.empty());
    }
    SUBCASE("an exec plugin") {
        const auto config = cluster_from_secret(cluster_api(capi_kubeconfig(
            "    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token}\n")));
        REQUIRE(config.exec);
        CHECK(config.exec->command == "get-token");
    }
    SUBCASE("the type alone says Cluster API") {
        auto s = cluster_api(capi_kubeconfig("    token: " + kToken + "\n"));
        s.labels.clear();
        CHECK(cluster_from_secret(s).token == kToken);
    }
}

TEST_CASE("cluster Secret: Cluster API refusals, one line each") {
    const auto error = [](const std::string& kubeconfig) {
        return error_of(cluster_api(kubeconfig));
    };
    SUBCASE("no key value") {
        auto s = cluster_api("");
        s.data.clear();
        CHECK(error_of(s) ==
              "cluster Secret cmsync-system/member-kubeconfig: key \"value\" is missing (a "
              "Cluster API kubeconfig Secret holds the kubeconfig there)");
    }
    SUBCASE("not YAML") {
        CHECK(error("{" + kToken)
                  .rfind(
                      "cluster Secret cmsync-system/member-kubeconfig: kubeconfig (key value): not "
                      "valid YAML: ",
                      0) == 0);
    }
    SUBCASE("bad base64") {
        CHECK(error(capi_kubeconfig("    client-certificate-data: not*base64\n")) ==
              "cluster Secret cmsync-system/member-kubeconfig: kubeconfig (key value): "
              "users[member-admin].user.client-certificate-data is not valid base64");
    }
    SUBCASE("no current context") {
        CHECK(error(capi_kubeconfig("    token: " + kToken + "\n", "\"\"")) ==
              "cluster Secret cmsync-system/member-kubeconfig: the kubeconfig (key value) has no "
              "current-context");
    }
    SUBCASE("a current context that is not there") {
        CHECK(error(capi_kubeconfig("    token: " + kToken + "\n", "nope")) ==
              "cluster Secret cmsync-system/member-kubeconfig: kubeconfig (key value): context "
              "\"nope\" not found (set by current-context in (key value))");
    }
    SUBCASE("files of whoever wrote it") {
        CHECK(error(capi_kubeconfig("    tokenFile: /var/run/token\n")) ==
              "cluster Secret cmsync-system/member-kubeconfig: the user's tokenFile names a file: "
              "a kubeconfig in a Secret must embed its data (the *-data fields, or token)");
        CHECK(error(capi_kubeconfig("    client-certificate: /c.crt\n    client-key: /c.key\n")) ==
              "cluster Secret cmsync-system/member-kubeconfig: the user's client-certificate "
              "names a file: a kubeconfig in a Secret must embed its data (the *-data fields, or "
              "token)");
    }
}

TEST_CASE("cluster Secret: Argo CD, what maps onto cmsync's credentials") {
    SUBCASE("bearer token and CA, as Argo CD's declarative setup shows") {
        const auto config = cluster_from_secret(
            argo(R"({"bearerToken":")" + kToken + R"(","tlsClientConfig":{"insecure":false,)" +
                     R"("caData":")" + base64_encode(kCa) + R"("}})",
                 "https://member:6443/"));
        CHECK(config.server == "https://member:6443");
        CHECK(config.token == kToken);
        CHECK(config.tls.ca_pem == kCa);
        CHECK_FALSE(config.tls.insecure_skip_verify);
    }
    SUBCASE("client certificate, server name, insecure, proxy; null is absent") {
        const auto config = cluster_from_secret(argo(
            R"({"tlsClientConfig":{"insecure":true,"serverName":"api.internal","certData":")" +
            base64_encode(kCert) + R"(","keyData":")" + base64_encode(kKey) +
            R"("},"proxyUrl":"http://proxy:3128","disableCompression":true,"awsAuthConfig":null,)"
            R"("bearerToken":null})"));
        CHECK(config.tls.cert_pem == kCert);
        CHECK(config.tls.key_pem == kKey);
        CHECK(config.tls.insecure_skip_verify);
        CHECK(config.tls.server_name == "api.internal");
        CHECK(config.proxy_url == "http://proxy:3128");
        CHECK(config.token.empty());
    }
    SUBCASE("basic auth") {
        const auto config =
            cluster_from_secret(argo(R"({"username":"admin","password":")" + kPassword + R"("})"));
        CHECK(config.username == "admin");
        CHECK(config.password == kPassword);
    }
    SUBCASE("an exec provider, never interactive") {
        const auto config = cluster_from_secret(
            argo(R"({"execProviderConfig":{"command":"argocd-k8s-auth","args":["gcp"],)"
                 R"("env":{"A":"1"},"apiVersion":"client.authentication.k8s.io/v1beta1",)"
                 R"("installHint":"install it"}})"));
        REQUIRE(config.exec);
        CHECK(config.exec->command == "argocd-k8s-auth");
        CHECK(config.exec->args == std::vector<std::string>{"gcp"});
        CHECK(config.exec->env == std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
        CHECK(config.exec->api_version == "client.authentication.k8s.io/v1beta1");
        CHECK(config.exec->interactive_mode == "Never");
    }
    SUBCASE("no config: no credentials") {
        auto s = argo("");
        s.data.erase("config");
        CHECK(cluster_from_secret(s).token.empty());
    }
}

TEST_CASE("cluster Secret: Argo CD refusals, one line naming the Secret and the field") {
    const std::string head = "cluster Secret cmsync-system/member: ";
    const auto row = [&](const std::string& config, const std::string& expected) {
        CAPTURE(config);
        CHECK(error_of(argo(config)) == head + expected);
    };
    SUBCASE("awsAuthConfig") {
        row(R"({"awsAuthConfig":{"clusterName":"c","roleARN":"r"},"bearerToken":")" + kToken +
                R"("})",
            "config.awsAuthConfig is not supported (it needs Argo CD's argocd-k8s-auth): use "
            "execProviderConfig with `aws eks get-token`, or a bearerToken");
    }
    SUBCASE("an unknown member") {
        row(R"({"bearerToken":")" + kToken + R"(","oauth":{}})",
            "config.oauth is not supported (known: awsAuthConfig, bearerToken, "
            "disableCompression, execProviderConfig, password, proxyUrl, tlsClientConfig, "
            "username)");
        row(R"({"tlsClientConfig":{"caFile":"/ca"}})",
            "config.tlsClientConfig.caFile is not supported (known: caData, certData, insecure, "
            "keyData, serverName)");
    }
    SUBCASE("bad base64") {
        row(R"({"tlsClientConfig":{"keyData":"not*base64)" + kToken + R"("}})",
            "config.tlsClientConfig.keyData is not valid base64");
    }
    SUBCASE("not JSON") {
        row(R"({"bearerToken":")" + kToken,
            "key \"config\" is not a JSON object (not JSON: Missing a closing quotation mark in "
            "string. (offset 34))");
        row(R"([")" + kToken + R"("])", "key \"config\" is not a JSON object (not a JSON object)");
    }
    SUBCASE("wrong types") {
        row(R"({"bearerToken":42})", "config.bearerToken must be a string");
        row(R"({"tlsClientConfig":"x"})", "config.tlsClientConfig must be an object");
        row(R"({"tlsClientConfig":{"insecure":"yes"}})",
            "config.tlsClientConfig.insecure must be true or false");
        row(R"({"execProviderConfig":{"command":"c","args":"a"}})",
            "config.execProviderConfig.args must be a list of strings");
        row(R"({"execProviderConfig":{"command":"c","env":{"A":1}}})",
            "config.execProviderConfig.env.A must be a string");
    }
    SUBCASE("exec without a command") {
        row(R"({"execProviderConfig":{"args":[]}})",
            "config.execProviderConfig.command is missing");
    }
    SUBCASE("no server; a server that is not http(s)") {
        auto s = argo("{}");
        s.data.erase("server");
        CHECK(error_of(s) == head +
                                 "key \"server\" is missing (an Argo CD cluster Secret has name, "
                                 "server and config)");
        CHECK(error_of(argo("{}", "ftp://member")) ==
              head + "server ftp://member: only https and http URLs are supported");
    }
    SUBCASE("neither format") {
        auto s = secret({{"token", kToken}});
        CHECK(error_of(s) == head +
                                 "neither an Argo CD cluster Secret (label "
                                 "argocd.argoproj.io/secret-type=cluster) nor a Cluster API "
                                 "kubeconfig Secret (key value, type cluster.x-k8s.io/secret)");
        s.labels[kArgoCdSecretTypeLabel] = "repository";  // another kind of Argo CD Secret
        CHECK(error_of(s).find("neither") != std::string::npos);
    }
}

TEST_CASE("credentials: a cluster Secret's read again after a 401, so a rotated token works") {
    RestConfig config;
    config.server = "https://member:6443";
    config.token = "old";
    RestConfig in_secret = config;
    int reads = 0;
    bool fail = false;
    auto now = std::chrono::system_clock::from_time_t(1000);
    std::vector<std::string> warnings;
    Credentials creds(
        config, nullptr, nullptr, [&] { return now; },
        [&](const std::string& w) { warnings.push_back(w); },
        [&] {
            ++reads;
            if (fail) {
                throw cmsync::Error("cluster Secret ns/member not found");
            }
            return in_secret;
        });
    CHECK(creds.authorization() == "Bearer old");
    CHECK(reads == 0);  // read once, by whoever built `config`: not again until a 401
    SUBCASE("rotated in place: the next request carries the new token") {
        in_secret.token = "new";
        CHECK(creds.invalidate());
        CHECK(creds.authorization() == "Bearer new");
        CHECK(reads == 1);
        SUBCASE("the 401s of requests in flight with the old token: one read serves them") {
            CHECK(creds.invalidate());
            CHECK(reads == 1);
            now += kReloadMinInterval;
            CHECK_FALSE(creds.invalidate());  // read again: unchanged, asking again won't help
            CHECK(reads == 2);
        }
        CHECK(warnings.empty());
    }
    SUBCASE("unchanged: asking again would not help") {
        CHECK_FALSE(creds.invalidate());
        CHECK(creds.authorization() == "Bearer old");
    }
    SUBCASE("the Secret cannot be read: the last credentials stay, a warning names no value") {
        fail = true;
        CHECK_FALSE(creds.invalidate());
        CHECK(creds.authorization() == "Bearer old");
        CHECK(warnings == std::vector<std::string>{
                              "https://member:6443: reading the credentials again failed: cluster "
                              "Secret ns/member not found"});
    }
    SUBCASE("a token turned into basic auth") {
        in_secret.token.clear();
        in_secret.username = "u";
        in_secret.password = "p";
        CHECK(creds.invalidate());
        CHECK(creds.authorization() == "Basic dTpw");
    }
    SUBCASE("a new CA or server: said once, taken at restart; the token at once") {
        in_secret.tls.ca_pem = "other CA";
        in_secret.token = "new";
        CHECK(creds.invalidate());
        CHECK(creds.authorization() == "Bearer new");
        now += kReloadMinInterval;
        in_secret.token = "newer";
        CHECK(creds.invalidate());
        CHECK(warnings ==
              std::vector<std::string>{"https://member:6443: the server or TLS settings of its "
                                       "source changed: they take effect when cmsync restarts "
                                       "(credentials at once)"});
    }
}
