#pragma once
// lib/rules' own: the YAML reader its parsers share (rules files, rule objects, clusters).

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kube/label_selector.hpp"
#include "rules/sync_config.hpp"

namespace cmsync::rules_internal {

/// A document's clusters by name.
using Clusters = std::map<std::string, ClusterRef>;

/// Reads one file's YAML, collecting every problem with its position.
class Reader {
  public:
    Reader(const std::string& file, std::vector<std::string>& errors)
        : file_(file), errors_(errors) {}

    std::string where(const YAML::Node& node) const {
        const auto mark = node.Mark();
        if (mark.is_null()) {
            return file_;
        }
        return fmt::format("{}:{}:{}", file_, mark.line + 1, mark.column + 1);
    }

    void error(const YAML::Node& node, const std::string& path, const std::string& message) {
        errors_.push_back(fmt::format("{}: {}: {}", where(node), path, message));
    }

    // A map whose keys are all in `allowed`; reports the others. False when not a map.
    bool fields(const YAML::Node& node, const std::string& path,
                const std::set<std::string>& allowed) {
        if (!node.IsMap()) {
            error(node, path, "expected a mapping");
            return false;
        }
        for (const auto& entry : node) {
            const auto key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
            if (allowed.count(key) == 0) {
                error(entry.first, path,
                      fmt::format("unknown field \"{}\" (known: {})", key,
                                  fmt::join(allowed.begin(), allowed.end(), ", ")));
            }
        }
        return true;
    }

    std::optional<std::string> string(const YAML::Node& node, const std::string& path) {
        if (!node.IsScalar()) {
            error(node, path, "expected a string");
            return std::nullopt;
        }
        return node.Scalar();
    }

    std::optional<bool> boolean(const YAML::Node& node, const std::string& path) {
        // Only a plain true or false: "false" in quotes is a string, and YAML 1.1's yes/no/on
        // are not booleans for Kubernetes either.
        if (node.IsScalar() && node.Tag() != "!" &&
            (node.Scalar() == "true" || node.Scalar() == "false")) {
            return node.Scalar() == "true";
        }
        error(node, path, "expected true or false");
        return std::nullopt;
    }

    // A list of strings, each checked by `invalid` (nothing when valid).
    template <typename Check>
    std::optional<std::vector<std::string>> strings(const YAML::Node& node, const std::string& path,
                                                    Check invalid) {
        if (!node.IsSequence()) {
            error(node, path, "expected a list of strings");
            return std::nullopt;
        }
        std::vector<std::string> out;
        bool ok = true;
        for (std::size_t i = 0; i < node.size(); ++i) {
            const auto item_path = fmt::format("{}[{}]", path, i);
            const auto value = string(node[i], item_path);
            if (!value) {
                ok = false;
                continue;
            }
            if (const auto why = invalid(*value)) {
                error(node[i], item_path, *why);
                ok = false;
            }
            out.push_back(*value);
        }
        if (ok && out.empty()) {
            error(node, path, "expected at least one entry");
            ok = false;
        }
        return ok ? std::optional(out) : std::nullopt;
    }

    std::optional<std::string> selector(const YAML::Node& node, const std::string& path) {
        auto text = string(node, path);
        if (text && (text->empty() || !LabelSelector::parse(*text))) {
            error(node, path, fmt::format("invalid label selector \"{}\"", *text));
            return std::nullopt;
        }
        return text;
    }

    /// `clusters`: the document's named clusters; nullptr where none may be named (rule objects).
    void rule(const YAML::Node& node, const std::string& path, std::vector<Rule>& out,
              const Clusters* clusters);
    /// targets.clusters: each a cluster of `clusters`, each once.
    void target_clusters(const YAML::Node& node, const std::string& path, const Clusters* clusters,
                         SyncSpec& spec);
    /// The `clusters` list of a SyncConfig: name -> context, each name once.
    Clusters clusters(const YAML::Node& node);
    /// A ClusterSyncRule or SyncRule document (deploy/crds/): its spec read as a rule named
    /// like the object; a SyncRule's source is in the object's namespace.
    void rule_object(const YAML::Node& doc, const std::string& kind, std::vector<Rule>& out);
    /// A SyncGrant document: its spec as the CRD's schema says; `out` gets "WHERE: SyncGrant
    /// NS/NAME" when it is valid.
    void grant_object(const YAML::Node& doc, std::vector<std::string>& out);

  private:
    /// What every rule object has: apiVersion, metadata with a name, a spec mapping. Its spec,
    /// or a null node (and errors) when one is wrong.
    YAML::Node object_spec(const YAML::Node& doc, const std::string& kind);
    /// metadata.namespace, or "default" as kubectl apply takes an object without one.
    static std::string object_namespace(const YAML::Node& doc);

  public:
  private:
    std::string file_;
    std::vector<std::string>& errors_;
};

/// Why `name` cannot name a `what` ("rule", "cluster": a DNS label, as rule names go into logs
/// and metrics, and as Cluster API and Argo CD name clusters), or nothing.
std::optional<std::string> invalid_label_name(const char* what, const std::string& name);

/// The cluster `node` names, from `clusters`; nothing (and an error) when it is not there, or
/// when no cluster may be named (`clusters` null: rule objects).
std::optional<ClusterRef> named_cluster(Reader& reader, const YAML::Node& node,
                                        const std::string& path, const Clusters* clusters);

}  // namespace cmsync::rules_internal
