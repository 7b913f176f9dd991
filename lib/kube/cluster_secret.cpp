#include "kube/cluster_secret.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <set>
#include <string_view>

#include "error.hpp"
#include "kube/base64.hpp"
#include "kube/json.hpp"
#include "kube/kubeconfig.hpp"

namespace cmsync::kube {

namespace {

// Both formats become a one-context kubeconfig, so that resolve_rest_config checks the server
// URL and applies precedence exactly as for a kubeconfig file.
constexpr const char* kName = "cluster";

const Value* data_of(const Object& secret, const std::string& key) {
    const auto it = secret.data.find(key);
    return it == secret.data.end() ? nullptr : &it->second;
}

// Reads Argo CD's `config` (appv1.ClusterConfig as JSON): every member known, and only those
// that map onto cmsync's credentials; Go's null is as good as absent.
class ArgoConfig {
  public:
    explicit ArgoConfig(const rapidjson::Value& root) : root_(root) {}

    void read(ClusterEntry& cluster, UserEntry& user) {
        check_members(root_, "config",
                      {"bearerToken", "username", "password", "tlsClientConfig",
                       "execProviderConfig", "awsAuthConfig", "proxyUrl", "disableCompression"});
        if (present(root_, "awsAuthConfig")) {
            throw Error(
                "config.awsAuthConfig is not supported (it needs Argo CD's argocd-k8s-auth): "
                "use execProviderConfig with `aws eks get-token`, or a bearerToken");
        }
        user.token = string(root_, "bearerToken", "config");
        user.username = string(root_, "username", "config");
        user.password = string(root_, "password", "config");
        cluster.proxy_url = string(root_, "proxyUrl", "config");
        boolean(root_, "disableCompression", "config");  // a transport detail: nothing to map
        if (const auto* tls = object(root_, "tlsClientConfig", "config")) {
            const char* where = "config.tlsClientConfig";
            check_members(*tls, where, {"insecure", "serverName", "caData", "certData", "keyData"});
            cluster.insecure_skip_tls_verify = boolean(*tls, "insecure", where);
            cluster.tls_server_name = string(*tls, "serverName", where);
            cluster.certificate_authority_data = bytes(*tls, "caData", where);
            user.client_certificate_data = bytes(*tls, "certData", where);
            user.client_key_data = bytes(*tls, "keyData", where);
        }
        if (const auto* exec = object(root_, "execProviderConfig", "config")) {
            const char* where = "config.execProviderConfig";
            check_members(*exec, where, {"command", "args", "env", "apiVersion", "installHint"});
            ExecConfig out;
            out.command = string(*exec, "command", where);
            if (out.command.empty()) {
                throw Error(fmt::format("{}.command is missing", where));
            }
            out.api_version = string(*exec, "apiVersion", where);
            out.interactive_mode = "Never";  // a controller has no terminal
            if (present(*exec, "args")) {
                const auto& args = (*exec)["args"];
                if (!args.IsArray()) {
                    throw Error(fmt::format("{}.args must be a list of strings", where));
                }
                for (const auto& arg : args.GetArray()) {
                    if (!arg.IsString()) {
                        throw Error(fmt::format("{}.args must be a list of strings", where));
                    }
                    out.args.emplace_back(arg.GetString(), arg.GetStringLength());
                }
            }
            if (const auto* env = object(*exec, "env", where)) {
                for (const auto& entry : env->GetObject()) {
                    const std::string name(entry.name.GetString(), entry.name.GetStringLength());
                    if (!entry.value.IsString()) {
                        throw Error(fmt::format("{}.env.{} must be a string", where, name));
                    }
                    out.env.emplace_back(
                        name, std::string(entry.value.GetString(), entry.value.GetStringLength()));
                }
            }
            string(*exec, "installHint", where);  // shown by kubectl to people, not here
            user.exec = std::move(out);
        }
    }

  private:
    static bool present(const rapidjson::Value& object, const char* key) {
        const auto it = object.FindMember(key);
        return it != object.MemberEnd() && !it->value.IsNull();
    }

    static void check_members(const rapidjson::Value& object, std::string_view where,
                              const std::set<std::string_view>& known) {
        for (const auto& entry : object.GetObject()) {
            const std::string_view name(entry.name.GetString(), entry.name.GetStringLength());
            if (known.count(name) == 0) {
                // Name only the first 64 bytes: a member name is not a value, but may be long.
                throw Error(fmt::format("{}.{} is not supported (known: {})", where,
                                        name.substr(0, 64), fmt::join(known, ", ")));
            }
        }
    }

    static std::string string(const rapidjson::Value& object, const char* key,
                              std::string_view where) {
        if (!present(object, key)) {
            return {};
        }
        const auto& value = object[key];
        if (!value.IsString()) {
            throw Error(fmt::format("{}.{} must be a string", where, key));
        }
        return {value.GetString(), value.GetStringLength()};
    }

    static bool boolean(const rapidjson::Value& object, const char* key, std::string_view where) {
        if (!present(object, key)) {
            return false;
        }
        const auto& value = object[key];
        if (!value.IsBool()) {
            throw Error(fmt::format("{}.{} must be true or false", where, key));
        }
        return value.GetBool();
    }

    static const rapidjson::Value* object(const rapidjson::Value& object, const char* key,
                                          std::string_view where) {
        if (!present(object, key)) {
            return nullptr;
        }
        const auto& value = object[key];
        if (!value.IsObject()) {
            throw Error(fmt::format("{}.{} must be an object", where, key));
        }
        return &value;
    }

    // Go's []byte in JSON: standard base64.
    static std::string bytes(const rapidjson::Value& object, const char* key,
                             std::string_view where) {
        const auto text = string(object, key, where);
        if (text.empty()) {
            return {};
        }
        auto decoded = base64_decode(text);
        if (!decoded) {
            throw Error(fmt::format("{}.{} is not valid base64", where, key));
        }
        return std::move(*decoded);
    }

    const rapidjson::Value& root_;
};

Kubeconfig argo_cd_kubeconfig(const Object& secret) {
    const auto* server = data_of(secret, "server");
    if (server == nullptr || server->bytes.empty()) {
        throw Error(
            "key \"server\" is missing (an Argo CD cluster Secret has name, server and "
            "config)");
    }
    ClusterEntry cluster;
    cluster.server = server->bytes;
    UserEntry user;
    if (const auto* config = data_of(secret, "config");
        config != nullptr && !config->bytes.empty()) {
        rapidjson::Document doc;
        if (const auto why = parse_json_object(config->bytes, doc); !why.empty()) {
            throw Error(fmt::format("key \"config\" is not a JSON object ({})", why));
        }
        ArgoConfig(doc).read(cluster, user);
    }
    Kubeconfig out;
    out.clusters.emplace(kName, std::pair{cluster, std::string()});
    out.users.emplace(kName, std::pair{user, std::string()});
    out.contexts.emplace(kName, std::pair{ContextEntry{kName, kName, ""}, std::string()});
    out.current_context = kName;
    return out;
}

Kubeconfig cluster_api_kubeconfig(const Object& secret) {
    const auto* value = data_of(secret, kClusterApiKubeconfigKey);
    if (value == nullptr || value->bytes.empty()) {
        throw Error(
            fmt::format("key \"{}\" is missing (a Cluster API kubeconfig Secret holds "
                        "the kubeconfig there)",
                        kClusterApiKubeconfigKey));
    }
    auto config = parse_kubeconfig(value->bytes, fmt::format("(key {})", kClusterApiKubeconfigKey));
    if (config.current_context.empty()) {
        throw Error(fmt::format("the kubeconfig (key {}) has no current-context",
                                kClusterApiKubeconfigKey));
    }
    return config;
}

// A kubeconfig in a Secret names files of whoever wrote it, not of this process.
void refuse_files(const RestConfig& config) {
    const std::pair<const std::string*, const char*> files[] = {
        {&config.tls.ca_file, "the cluster's certificate-authority"},
        {&config.tls.cert_file, "the user's client-certificate"},
        {&config.tls.key_file, "the user's client-key"},
        {&config.token_file, "the user's tokenFile"}};
    for (const auto& [path, what] : files) {
        if (!path->empty()) {
            throw Error(
                fmt::format("{} names a file: a kubeconfig in a Secret must embed its "
                            "data (the *-data fields, or token)",
                            what));
        }
    }
}

}  // namespace

RestConfig cluster_from_secret(const Object& secret) {
    const auto ref = secret.ref().str();
    try {
        const auto label = secret.labels.find(kArgoCdSecretTypeLabel);
        const bool argo = label != secret.labels.end() && label->second == "cluster";
        if (!argo && secret.type != kClusterApiSecretType &&
            data_of(secret, kClusterApiKubeconfigKey) == nullptr) {
            throw Error(fmt::format(
                "neither an Argo CD cluster Secret (label {}=cluster) nor a Cluster API "
                "kubeconfig Secret (key {}, type {})",
                kArgoCdSecretTypeLabel, kClusterApiKubeconfigKey, kClusterApiSecretType));
        }
        const auto kubeconfig = argo ? argo_cd_kubeconfig(secret) : cluster_api_kubeconfig(secret);
        auto config = resolve_rest_config(kubeconfig, ConnectionFlags{});
        refuse_files(config);
        config.context.clear();  // not a context of any kubeconfig of this process
        return config;
    } catch (const Error& e) {
        throw Error(fmt::format("cluster Secret {}: {}", ref, e.what()));
    }
}

}  // namespace cmsync::kube
