#include "complete.hpp"

#include <iostream>
#include <map>
#include <set>

#include "connection.hpp"
#include "error.hpp"

namespace cmsync::cli {

namespace {

constexpr int kNoFileComp = 4;
constexpr int kDefault = 0;

const std::map<std::string, std::vector<std::string>> kFixedValues = {
    {"--output", {"text", "json"}},
    {"-o", {"text", "json"}},
    {"--dry-run", {"none", "client", "server"}},
    {"--color", {"auto", "always", "never"}},
    {"--watch-scope", {"auto", "namespaces", "cluster"}},
    {"--log-format", {"text", "json"}},
    {"--kind", {"configmap", "secret"}},
};
const std::set<std::string> kFileFlags = {"--kubeconfig",
                                          "--certificate-authority",
                                          "--client-certificate",
                                          "--client-key",
                                          "--state-file",
                                          "-f",
                                          "--filename"};

// Every flag of `app` and its parents, with whether it takes a value.
std::map<std::string, bool> flags_of(const CLI::App* app) {
    std::map<std::string, bool> out;
    for (; app != nullptr; app = app->get_parent()) {
        for (const auto* opt : app->get_options()) {
            const bool takes_value = opt->get_expected_min() > 0;  // flags take none
            for (const auto& name : opt->get_lnames()) {
                out.emplace("--" + name, takes_value);
            }
            for (const auto& name : opt->get_snames()) {
                out.emplace("-" + name, takes_value);
            }
        }
    }
    return out;
}

struct Typed {
    std::string command;
    std::vector<std::string> positionals;
    std::map<std::string, std::string> values;  ///< flag -> last value
};

Typed parse_typed(CLI::App& app, const std::vector<std::string>& words) {
    Typed t;
    const CLI::App* current = &app;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const auto& w = words[i];
        if (w.rfind("-", 0) == 0) {
            const auto eq = w.find('=');
            const auto name = w.substr(0, eq);
            const auto flags = flags_of(current);
            const auto it = flags.find(name);
            if (eq != std::string::npos) {
                t.values[name] = w.substr(eq + 1);
            } else if (it != flags.end() && it->second && i + 1 < words.size()) {
                t.values[name] = words[++i];
            } else if (it != flags.end() && !it->second) {
                t.values[name] = "true";
            }
            continue;
        }
        if (t.command.empty()) {
            t.command = w;
            for (auto* sub : app.get_subcommands({})) {
                if (sub->get_name() == w) {
                    current = sub;
                }
            }
        } else {
            t.positionals.push_back(w);
        }
    }
    return t;
}

std::string value_of(const Typed& t, const char* long_name, const char* short_name = nullptr) {
    if (const auto it = t.values.find(long_name); it != t.values.end()) {
        return it->second;
    }
    if (short_name != nullptr) {
        if (const auto it = t.values.find(short_name); it != t.values.end()) {
            return it->second;
        }
    }
    return {};
}

GlobalOptions connection_options(const Typed& t) {
    GlobalOptions g;
    auto& c = g.connection;
    c.kubeconfig = value_of(t, "--kubeconfig");
    c.context = value_of(t, "--context");
    c.cluster = value_of(t, "--cluster");
    c.user = value_of(t, "--user");
    c.server = value_of(t, "--server", "-s");
    c.token = value_of(t, "--token");
    c.certificate_authority = value_of(t, "--certificate-authority");
    if (value_of(t, "--insecure-skip-tls-verify") == "true") {
        c.insecure_skip_tls_verify = true;
    }
    // Completion must stay snappy: 3 s for everything it asks, retries included.
    c.request_timeout = std::chrono::milliseconds(3000);
    g.overall_limit = std::chrono::milliseconds(3000);
    return g;
}

// Flags whose value is a kubeconfig context (a comma-separated list for --target-context).
const std::set<std::string> kContextFlags = {"--context", "--source-context", "--target-context",
                                             "--target-contexts"};

// The contexts of the kubeconfig the typed flags name: read from disk, no request.
std::vector<std::string> context_candidates(const Typed& t) {
    try {
        const auto config = kube::load_kubeconfig(connection_options(t).connection,
                                                  read_environment(), disk_files());
        std::vector<std::string> out;
        for (const auto& [name, entry] : config.value_or(kube::Kubeconfig{}).contexts) {
            out.push_back(name);
        }
        return out;
    } catch (const std::exception&) {
        return {};  // completion is silent on failure
    }
}

std::vector<std::string> cluster_candidates(const Typed& t, const std::string& what) {
    try {
        Connection connection(connection_options(t));
        auto& api = connection.api();
        if (what == "namespaces") {
            return api.list_namespace_names("", 500);
        }
        auto source = value_of(t, "--namespace", "-n");
        if (source.empty() && !t.positionals.empty()) {
            source = t.positionals.front();
        }
        if (source.empty()) {
            return {};
        }
        // Names and key names only: a Secret's values are read here, never printed.
        const auto kind = kube::kind_named(value_of(t, "--kind")).value_or(kube::kConfigMap);
        std::vector<std::string> out;
        if (what == "names") {
            api.list(kind, source, {"", "", 500}, [&](auto&& items, bool restart) {
                if (restart) {
                    out.clear();
                }
                for (const auto& cm : items) {
                    out.push_back(cm.name);
                }
            });
            return out;
        }
        std::string names = value_of(t, "--name");
        std::size_t start = 0;
        std::set<std::string> keys;
        while (start <= names.size() && !names.empty()) {
            auto end = names.find(',', start);
            end = end == std::string::npos ? names.size() : end;
            if (const auto cm = api.get(kind, source, names.substr(start, end - start))) {
                for (const auto& [key, value] : cm->data) {
                    keys.insert(key);
                }
            }
            start = end + 1;
        }
        return {keys.begin(), keys.end()};
    } catch (const std::exception&) {
        return {};  // completion is silent on failure
    }
}

void print(const std::vector<std::string>& candidates, const std::string& partial,
           const std::string& prefix, int directive) {
    for (const auto& c : candidates) {
        if (c.rfind(partial, 0) == 0) {
            std::cout << prefix << c << "\n";
        }
    }
    std::cout << ":" << directive << "\n";
}

}  // namespace

int run_complete(CLI::App& app, const std::vector<std::string>& args) {
    if (args.empty()) {
        std::cout << ":" << kNoFileComp << "\n";
        return 0;
    }
    const std::vector<std::string> words(args.begin(), args.end() - 1);
    auto partial = args.back();
    const auto typed = parse_typed(app, words);
    const CLI::App* current = &app;
    for (auto* sub : app.get_subcommands({})) {
        if (sub->get_name() == typed.command) {
            current = sub;
        }
    }
    // The flag whose value is being typed: "--flag=PARTIAL" or "--flag PARTIAL".
    std::string flag;
    std::string prefix;
    if (partial.rfind("--", 0) == 0 && partial.find('=') != std::string::npos) {
        flag = partial.substr(0, partial.find('='));
        prefix = flag + "=";
        partial = partial.substr(prefix.size());
    } else if (!words.empty() && words.back().rfind("-", 0) == 0 &&
               words.back().find('=') == std::string::npos) {
        const auto flags = flags_of(current);
        const auto it = flags.find(words.back());
        if (it != flags.end() && it->second) {
            flag = words.back();
        }
    }
    if (!flag.empty()) {
        if (const auto it = kFixedValues.find(flag); it != kFixedValues.end()) {
            print(it->second, partial, prefix, kNoFileComp);
        } else if (flag == "-n" || flag == "--namespace") {
            print(cluster_candidates(typed, "namespaces"), partial, prefix, kNoFileComp);
        } else if (flag == "--name") {
            print(cluster_candidates(typed, "names"), partial, prefix, kNoFileComp);
        } else if (flag == "--keys") {
            print(cluster_candidates(typed, "keys"), partial, prefix, kNoFileComp);
        } else if (kContextFlags.count(flag) != 0) {
            // A list's last entry is completed, after the ones already typed.
            const auto comma = partial.rfind(',');
            const auto typed_entries = flag == "--context" || comma == std::string::npos
                                           ? std::string()
                                           : partial.substr(0, comma + 1);
            auto contexts = context_candidates(typed);
            std::erase_if(contexts, [&](const std::string& c) {  // no context twice
                return ("," + typed_entries).find("," + c + ",") != std::string::npos;
            });
            print(contexts, partial.substr(typed_entries.size()), prefix + typed_entries,
                  kNoFileComp);
        } else if (kFileFlags.count(flag) != 0) {
            print({}, partial, prefix, kDefault);
        } else {
            print({}, partial, prefix, kNoFileComp);
        }
        return 0;
    }
    if (partial.rfind("-", 0) == 0) {
        std::vector<std::string> names;
        for (const auto& [name, takes_value] : flags_of(current)) {
            names.push_back(name);
        }
        print(names, partial, "", kNoFileComp);
        return 0;
    }
    if (typed.command.empty()) {
        std::vector<std::string> commands;
        for (const auto* sub : app.get_subcommands({})) {
            if (!sub->get_group().empty()) {
                commands.push_back(sub->get_name());
            }
        }
        print(commands, partial, "", kNoFileComp);
        return 0;
    }
    if (typed.command == "diff" || typed.command == "sync" || typed.command == "watch" ||
        typed.command == "resync") {
        // A namespace already given (the source above all) is not offered again.
        std::set<std::string> given(typed.positionals.begin(), typed.positionals.end());
        given.insert(value_of(typed, "--namespace", "-n"));
        auto candidates = cluster_candidates(typed, "namespaces");
        std::erase_if(candidates, [&](const std::string& ns) { return given.count(ns) != 0; });
        print(candidates, partial, "", kNoFileComp);
        return 0;
    }
    if (typed.command == "completion") {
        print({"bash", "zsh", "fish"}, partial, "", kNoFileComp);
        return 0;
    }
    print({}, partial, "", kNoFileComp);
    return 0;
}

std::string completion_script(const std::string& shell) {
    if (shell == "bash") {
        return R"(# bash completion for kubectl-cmsync; generated by `kubectl-cmsync completion bash`.
_kubectl_cmsync() {
  local cur=${COMP_WORDS[COMP_CWORD]} out directive
  out=$(kubectl-cmsync __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) || return
  directive=${out##*:}
  out=${out%:*}
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  if [[ ${#COMPREPLY[@]} -eq 0 && $directive != 4 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _kubectl_cmsync kubectl-cmsync
)";
    }
    if (shell == "zsh") {
        return R"(#compdef kubectl-cmsync
# zsh completion for kubectl-cmsync; generated by `kubectl-cmsync completion zsh`.
_kubectl_cmsync() {
  local -a lines candidates
  lines=("${(@f)$(kubectl-cmsync __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)}")
  local directive=${lines[-1]#:}
  candidates=("${(@)lines[1,-2]}")
  if (( ${#candidates} )); then
    compadd -a candidates
  elif [[ $directive != 4 ]]; then
    _files
  fi
}
compdef _kubectl_cmsync kubectl-cmsync
)";
    }
    if (shell == "fish") {
        return R"(# fish completion for kubectl-cmsync; generated by `kubectl-cmsync completion fish`.
function __kubectl_cmsync_complete
    set -l args (commandline -opc)[2..-1] (commandline -ct)
    kubectl-cmsync __complete $args 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-cmsync -f -a '(__kubectl_cmsync_complete)'
)";
    }
    throw UsageError("completion: give bash, zsh or fish");
}

}  // namespace cmsync::cli

namespace cmsync::cli {

std::function<int()> setup_completion(CLI::App& app) {
    auto shell = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("completion", "Print a completion script (bash, zsh or fish)");
    sub->add_option("shell", *shell, "bash, zsh or fish")->required();
    sub->footer(R"(Examples:
  source <(kubectl-cmsync completion bash)
  kubectl-cmsync completion fish > ~/.config/fish/completions/kubectl-cmsync.fish
For `kubectl cmsync <TAB>`, put completions/kubectl_complete-cmsync on PATH (kubectl >= 1.26).)");
    return [shell] {
        std::cout << completion_script(*shell);
        return 0;
    };
}

}  // namespace cmsync::cli
