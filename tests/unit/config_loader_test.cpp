#include "kube/config_loader.hpp"

#include <doctest/doctest.h>

#include <map>

#include "error.hpp"

using namespace cmsync::kube;

namespace {

// Two kubeconfigs in flow style: a context each, with its own server and token.
std::string kubeconfig(const std::string& context, const std::string& server,
                       const std::string& ns) {
    return "{current-context: " + context + ", clusters: [{name: c-" + context +
           ", cluster: {server: \"" + server +
           "\", insecure-skip-tls-verify: true}}], users: " + "[{name: u-" + context +
           ", user: {token: t-" + context + "}}], contexts: [{name: " + context +
           ", context: {cluster: c-" + context + ", user: u-" + context +
           (ns.empty() ? "" : ", namespace: " + ns) + "}}]}";
}

const std::string kDev = kubeconfig("dev", "https://one.example:6443/", "team-a");
const std::string kProd = kubeconfig("prod", "https://two.example", "");

// A disk of a few files; every read is recorded.
struct FakeDisk {
    std::map<std::string, std::string> files;
    std::vector<std::string> reads;
    ConfigFiles view() {
        return {[this](const std::string& path) { return files.count(path) != 0; },
                [this](const std::string& path) {
                    reads.push_back(path);
                    const auto it = files.find(path);
                    if (it == files.end()) {
                        throw cmsync::Error("cannot read " + path);
                    }
                    return it->second;
                }};
    }
};

}  // namespace

TEST_CASE("kubeconfig resolution: files, in-cluster fallback, flags, as kubectl") {
    FakeDisk disk;
    Environment env;
    env.home = "/home/me";
    ConnectionFlags flags;
    SUBCASE("~/.kube/config when nothing else is said") {
        disk.files["/home/me/.kube/config"] = kDev;
        const auto config = load_rest_config(flags, env, disk.view());
        CHECK(config.server == "https://one.example:6443");
        CHECK(config.namespace_name == "team-a");
    }
    SUBCASE("$KUBECONFIG's list: the first current-context wins, missing entries skipped") {
        env.kubeconfig = "/a:/missing:/b";
        disk.files["/a"] = kDev;
        disk.files["/b"] = kProd;
        const auto config = load_rest_config(flags, env, disk.view());
        CHECK(config.server == "https://one.example:6443");
        CHECK(disk.reads == std::vector<std::string>{"/a", "/b"});
        flags.context = "prod";
        CHECK(load_rest_config(flags, env, disk.view()).server == "https://two.example");
    }
    SUBCASE("--kubeconfig wins over $KUBECONFIG, and must exist") {
        env.kubeconfig = "/a";
        disk.files["/a"] = kDev;
        disk.files["/b"] = kProd;
        flags.kubeconfig = "/b";
        CHECK(load_rest_config(flags, env, disk.view()).server == "https://two.example");
        flags.kubeconfig = "/nope";
        CHECK_THROWS_WITH_AS(load_rest_config(flags, env, disk.view()),
                             "kubeconfig /nope (--kubeconfig) does not exist", cmsync::Error);
    }
    SUBCASE("no kubeconfig in a pod: the service account") {
        env.service_host = "10.0.0.1";
        env.service_port = "443";
        env.service_account_dir = "/sa";
        disk.files["/sa/namespace"] = "cmsync-system";
        disk.files["/sa/token"] = "pod-token";
        disk.files["/sa/ca.crt"] = "CA";
        const auto config = load_rest_config(flags, env, disk.view());
        CHECK(config.server == "https://10.0.0.1:443");
        CHECK(config.namespace_name == "cmsync-system");
    }
    SUBCASE("nothing at all: an error saying where it looked") {
        CHECK_THROWS_WITH_AS(
            load_rest_config(flags, env, disk.view()),
            "no kubeconfig found (looked at /home/me/.kube/config); set KUBECONFIG, --kubeconfig "
            "or --server",
            cmsync::Error);
    }
    SUBCASE("no file but --server and --token: the flags alone") {
        flags.server = "https://flags.example";
        flags.token = "t";
        flags.insecure_skip_tls_verify = true;
        CHECK(load_rest_config(flags, env, disk.view()).server == "https://flags.example");
    }
}
