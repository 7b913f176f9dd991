#include "kube/kubeconfig.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "error.hpp"
#include "kube/base64.hpp"

namespace cmsync::kube {

namespace {

struct Reader {
    const std::string& path;

    std::string str(const YAML::Node& node, const char* key, const std::string& where) const {
        const auto value = node[key];
        if (!value || value.IsNull()) {
            return {};
        }
        if (!value.IsScalar()) {
            throw Error(fmt::format("kubeconfig {}: {}.{} must be a string", path, where, key));
        }
        return value.as<std::string>();
    }

    bool boolean(const YAML::Node& node, const char* key, const std::string& where) const {
        const auto text = str(node, key, where);
        if (text.empty() || text == "false") {
            return false;
        }
        if (text == "true") {
            return true;
        }
        throw Error(fmt::format("kubeconfig {}: {}.{} must be true or false", path, where, key));
    }

    std::string file(const YAML::Node& node, const char* key, const std::string& where) const {
        auto value = str(node, key, where);
        if (value.empty() || std::filesystem::path(value).is_absolute()) {
            return value;
        }
        return (std::filesystem::path(path).parent_path() / value).lexically_normal().string();
    }

    std::string data(const YAML::Node& node, const char* key, const std::string& where) const {
        const auto value = str(node, key, where);
        if (value.empty()) {
            return {};
        }
        auto decoded = base64_decode(value);
        if (!decoded) {
            throw Error(fmt::format("kubeconfig {}: {}.{} is not valid base64", path, where, key));
        }
        return *decoded;
    }

    std::vector<std::string> strings(const YAML::Node& node, const char* key,
                                     const std::string& where) const {
        std::vector<std::string> out;
        const auto list = node[key];
        if (!list || list.IsNull()) {
            return out;
        }
        if (!list.IsSequence()) {
            throw Error(fmt::format("kubeconfig {}: {}.{} must be a list", path, where, key));
        }
        for (const auto& item : list) {
            out.push_back(item.as<std::string>());
        }
        return out;
    }

    template <typename Entry, typename Parse>
    void named_list(const YAML::Node& root, const char* list_key, const char* item_key,
                    std::map<std::string, std::pair<Entry, std::string>>& out, Parse parse) const {
        const auto list = root[list_key];
        if (!list || list.IsNull()) {
            return;
        }
        if (!list.IsSequence()) {
            throw Error(fmt::format("kubeconfig {}: {} must be a list", path, list_key));
        }
        for (const auto& item : list) {
            const auto name = str(item, "name", list_key);
            if (name.empty()) {
                throw Error(
                    fmt::format("kubeconfig {}: an entry of {} has no name", path, list_key));
            }
            const auto body = item[item_key];
            const auto where = fmt::format("{}[{}].{}", list_key, name, item_key);
            // Within one file the first entry of a name wins, as across files.
            out.try_emplace(name, parse(body ? body : YAML::Node(YAML::NodeType::Map), where),
                            path);
        }
    }

    ExecConfig exec(const YAML::Node& node, const std::string& where) const {
        ExecConfig out;
        out.api_version = str(node, "apiVersion", where);
        out.command = str(node, "command", where);
        if (out.command.empty()) {
            throw Error(fmt::format("kubeconfig {}: {}.command is required", path, where));
        }
        out.args = strings(node, "args", where);
        if (const auto env = node["env"]; env && env.IsSequence()) {
            for (const auto& item : env) {
                out.env.emplace_back(str(item, "name", where + ".env"),
                                     str(item, "value", where + ".env"));
            }
        }
        out.provide_cluster_info = boolean(node, "provideClusterInfo", where);
        out.interactive_mode = str(node, "interactiveMode", where);
        return out;
    }
};

}  // namespace

Kubeconfig parse_kubeconfig(const std::string& yaml_text, const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw Error(fmt::format("kubeconfig {}: not valid YAML: {}", path, e.msg));
    }
    Kubeconfig out;
    out.files.push_back(path);
    if (!root || root.IsNull()) {
        return out;
    }
    if (!root.IsMap()) {
        throw Error(fmt::format("kubeconfig {}: not a kubeconfig (expected a mapping)", path));
    }
    const Reader r{path};
    try {
        out.current_context = r.str(root, "current-context", "");
        if (!out.current_context.empty()) {
            out.current_context_file = path;
        }
        r.named_list(root, "clusters", "cluster", out.clusters,
                     [&](const YAML::Node& n, const std::string& w) {
                         ClusterEntry c;
                         c.server = r.str(n, "server", w);
                         c.certificate_authority = r.file(n, "certificate-authority", w);
                         c.certificate_authority_data = r.data(n, "certificate-authority-data", w);
                         c.insecure_skip_tls_verify = r.boolean(n, "insecure-skip-tls-verify", w);
                         c.tls_server_name = r.str(n, "tls-server-name", w);
                         c.proxy_url = r.str(n, "proxy-url", w);
                         return c;
                     });
        r.named_list(root, "users", "user", out.users,
                     [&](const YAML::Node& n, const std::string& w) {
                         UserEntry u;
                         u.token = r.str(n, "token", w);
                         u.token_file = r.file(n, "tokenFile", w);
                         u.client_certificate = r.file(n, "client-certificate", w);
                         u.client_certificate_data = r.data(n, "client-certificate-data", w);
                         u.client_key = r.file(n, "client-key", w);
                         u.client_key_data = r.data(n, "client-key-data", w);
                         u.username = r.str(n, "username", w);
                         u.password = r.str(n, "password", w);
                         if (const auto e = n["exec"]; e && e.IsMap()) {
                             u.exec = r.exec(e, w + ".exec");
                         }
                         u.as = r.str(n, "as", w);
                         u.as_groups = r.strings(n, "as-groups", w);
                         return u;
                     });
        r.named_list(root, "contexts", "context", out.contexts,
                     [&](const YAML::Node& n, const std::string& w) {
                         ContextEntry c;
                         c.cluster = r.str(n, "cluster", w);
                         c.user = r.str(n, "user", w);
                         c.namespace_name = r.str(n, "namespace", w);
                         return c;
                     });
    } catch (const YAML::Exception& e) {
        throw Error(fmt::format("kubeconfig {}: {}", path, e.msg));
    }
    return out;
}

Kubeconfig merge_kubeconfigs(const std::vector<Kubeconfig>& configs) {
    Kubeconfig out;
    for (const auto& config : configs) {
        out.files.insert(out.files.end(), config.files.begin(), config.files.end());
        if (out.current_context.empty()) {
            out.current_context = config.current_context;
            out.current_context_file = config.current_context_file;
        }
        out.clusters.insert(config.clusters.begin(), config.clusters.end());
        out.users.insert(config.users.begin(), config.users.end());
        out.contexts.insert(config.contexts.begin(), config.contexts.end());
    }
    return out;
}

std::vector<std::string> kubeconfig_paths(const std::string& flag,
                                          const std::optional<std::string>& env_kubeconfig,
                                          const std::string& home) {
    if (!flag.empty()) {
        return {flag};
    }
    std::vector<std::string> out;
    if (env_kubeconfig && !env_kubeconfig->empty()) {
        std::size_t start = 0;
        while (start <= env_kubeconfig->size()) {
            auto end = env_kubeconfig->find(':', start);
            if (end == std::string::npos) {
                end = env_kubeconfig->size();
            }
            auto entry = env_kubeconfig->substr(start, end - start);
            if (!entry.empty() && std::find(out.begin(), out.end(), entry) == out.end()) {
                out.push_back(std::move(entry));
            }
            start = end + 1;
        }
        return out;
    }
    if (!home.empty()) {
        out.push_back((std::filesystem::path(home) / ".kube" / "config").string());
    }
    return out;
}

}  // namespace cmsync::kube
