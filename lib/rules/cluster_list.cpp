// Clusters in a rules file (issue 30): the `clusters` list, and the names rules give them.
#include <algorithm>

#include "rules/yaml_reader.hpp"
#include "util/validate.hpp"

namespace cmsync::rules_internal {

namespace {

// A DNS label: lowercase letters, digits and '-', at most 63, a letter or digit at each end.
bool dns_label(const std::string& name) {
    const auto ok_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    bool ok = !name.empty() && name.size() <= 63 && ok_char(name.front()) && ok_char(name.back());
    for (const char c : name) {
        ok = ok && (ok_char(c) || c == '-');
    }
    return ok;
}

}  // namespace

std::optional<std::string> invalid_label_name(const char* what, const std::string& name) {
    if (dns_label(name)) {
        return std::nullopt;
    }
    return fmt::format(
        "invalid {} name \"{}\": use lowercase letters, digits and '-' (at most 63, starting "
        "and ending with a letter or digit)",
        what, name);
}

Clusters Reader::clusters(const YAML::Node& node) {
    Clusters out;
    if (!node.IsSequence() || node.size() == 0) {
        error(node, "clusters", "expected a list of at least one cluster");
        return out;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
        const auto path = fmt::format("clusters[{}]", i);
        const auto item = node[i];
        if (!fields(item, path, {"name", "context", "secret"})) {
            continue;
        }
        // A cluster is a kubeconfig context or a cluster Secret (read in the current context's
        // namespace: in the cluster, the service account's), one of the two.
        const bool by_secret = static_cast<bool>(item["secret"]);
        if (by_secret && item["context"]) {
            error(item, path, "give context or secret, not both");
            continue;
        }
        std::optional<std::string> name;
        std::optional<std::string> where;  // the context or the Secret's name
        for (const char* field : {"name", by_secret ? "secret" : "context"}) {
            const auto value = item[field];
            if (!value) {
                error(item, path,
                      std::string(field) == "name"
                          ? "missing field \"name\""
                          : "missing field \"context\" (a kubeconfig context) or \"secret\" (a "
                            "Cluster API or Argo CD cluster Secret)");
                continue;
            }
            auto text = string(value, fmt::format("{}.{}", path, field));
            if (text && text->empty()) {
                error(value, fmt::format("{}.{}", path, field), "expected a non-empty string");
                text.reset();
            }
            (std::string(field) == "name" ? name : where) = text;
        }
        if (by_secret && where) {
            if (const auto why = invalid_object_name("Secret", *where)) {
                error(item["secret"], path + ".secret", *why);
                where.reset();
                continue;
            }
        }
        if (name) {
            if (const auto why = invalid_label_name("cluster", *name)) {
                error(item["name"], path + ".name", *why);
            } else if (out.count(*name) != 0) {
                error(item["name"], path + ".name",
                      fmt::format("cluster \"{}\" is named twice", *name));
            } else if (where) {
                auto ref =
                    by_secret ? ClusterRef{*name, "", *where} : ClusterRef{*name, *where, ""};
                // One cluster, one name: copies record it, and two names would make one
                // cluster two (a namespace then its own source).
                const auto same = std::find_if(out.begin(), out.end(), [&](const auto& entry) {
                    return entry.second.source() == ref.source();
                });
                if (same != out.end()) {
                    const char* field = by_secret ? "secret" : "context";
                    error(item[field], path + "." + field,
                          fmt::format("{} is cluster \"{}\" already", ref.source(), same->first));
                } else {
                    out.emplace(*name, std::move(ref));
                }
            }
        }
    }
    return out;
}

std::optional<ClusterRef> named_cluster(Reader& reader, const YAML::Node& node,
                                        const std::string& path, const Clusters* clusters) {
    const auto name = reader.string(node, path);
    if (!name) {
        return std::nullopt;
    }
    if (clusters == nullptr) {
        reader.error(node, path,
                     "a rule object cannot name a cluster yet: name clusters in a rules file");
        return std::nullopt;
    }
    const auto it = clusters->find(*name);
    if (it == clusters->end()) {
        std::vector<std::string> known;
        for (const auto& [n, ref] : *clusters) {
            known.push_back(n);
        }
        reader.error(node, path,
                     known.empty() ? fmt::format("unknown cluster \"{}\": the file names no "
                                                 "clusters (add it to clusters: with its context)",
                                                 *name)
                                   : fmt::format("unknown cluster \"{}\" (clusters: {})", *name,
                                                 fmt::join(known, ", ")));
        return std::nullopt;
    }
    return it->second;
}

void Reader::target_clusters(const YAML::Node& node, const std::string& path,
                             const Clusters* clusters, SyncSpec& spec) {
    if (!node.IsSequence() || node.size() == 0) {
        error(node, path, "expected a list of at least one cluster name");
        return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
        const auto item_path = fmt::format("{}[{}]", path, i);
        const auto ref = named_cluster(*this, node[i], item_path, clusters);
        if (!ref) {
            continue;
        }
        if (std::find(spec.target_clusters.begin(), spec.target_clusters.end(), *ref) !=
            spec.target_clusters.end()) {
            error(node[i], item_path, fmt::format("cluster \"{}\" is listed twice", ref->name));
            continue;
        }
        spec.target_clusters.push_back(*ref);
    }
}

}  // namespace cmsync::rules_internal
