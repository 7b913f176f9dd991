#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cmsync::kube {

/// users[].user.exec: a client.authentication.k8s.io credential plugin.
struct ExecConfig {
    std::string api_version;
    std::string command;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    bool provide_cluster_info = false;
    std::string interactive_mode;
    bool operator==(const ExecConfig&) const = default;
};

struct ClusterEntry {
    std::string server;
    std::string certificate_authority;       ///< an absolute path
    std::string certificate_authority_data;  ///< decoded PEM
    bool insecure_skip_tls_verify = false;
    std::string tls_server_name;
    std::string proxy_url;
};

struct UserEntry {
    std::string token;
    std::string token_file;
    std::string client_certificate;       ///< an absolute path
    std::string client_certificate_data;  ///< decoded PEM
    std::string client_key;
    std::string client_key_data;
    std::string username;
    std::string password;
    std::optional<ExecConfig> exec;
    std::string as;
    std::vector<std::string> as_groups;
};

struct ContextEntry {
    std::string cluster;
    std::string user;
    std::string namespace_name;
};

/// One kubeconfig file, or several merged; each entry remembers the file it came from.
struct Kubeconfig {
    std::map<std::string, std::pair<ClusterEntry, std::string>> clusters;
    std::map<std::string, std::pair<UserEntry, std::string>> users;
    std::map<std::string, std::pair<ContextEntry, std::string>> contexts;
    std::string current_context;
    std::string current_context_file;
    std::vector<std::string> files;  ///< the files read, in precedence order
};

/// Parses one kubeconfig; relative paths are resolved against `path`'s directory.
/// Throws Error naming the file and field on malformed input.
Kubeconfig parse_kubeconfig(const std::string& yaml_text, const std::string& path);

/// Merges files in precedence order: the first file that sets a value or map key wins.
Kubeconfig merge_kubeconfigs(const std::vector<Kubeconfig>& configs);

/// The files to load: `--kubeconfig` alone; else KUBECONFIG's entries (':'-separated, empty
/// ones skipped, duplicates dropped); else HOME/.kube/config.
std::vector<std::string> kubeconfig_paths(const std::string& flag,
                                          const std::optional<std::string>& env_kubeconfig,
                                          const std::string& home);

}  // namespace cmsync::kube
