// Rule objects as documents (deploy/crds/): ClusterSyncRule and SyncRule read as rules of a
// rules file, SyncGrant checked as its CRD's schema says, for `validate` before kubectl apply.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "kube/kind.hpp"
#include "rules/yaml_reader.hpp"
#include "util/validate.hpp"

namespace cmsync::rules_internal {

YAML::Node Reader::object_spec(const YAML::Node& doc, const std::string& kind) {
    if (!fields(doc, kind, {"apiVersion", "kind", "metadata", "spec", "status"})) {
        return YAML::Node(YAML::NodeType::Null);
    }
    const auto api_version = doc["apiVersion"];
    if (!api_version || !api_version.IsScalar() || api_version.Scalar() != kSyncConfigApiVersion) {
        error(api_version ? api_version : doc, "apiVersion",
              fmt::format("expected \"{}\"", kSyncConfigApiVersion));
    }
    const auto meta = doc["metadata"];
    if (!meta || !meta.IsMap() || !meta["name"]) {
        error(meta ? meta : doc, "metadata", "expected a mapping with a name");
        return YAML::Node(YAML::NodeType::Null);
    }
    const auto spec = doc["spec"];
    if (!spec || !spec.IsMap()) {
        error(spec ? spec : doc, "spec", "expected a mapping");
        return YAML::Node(YAML::NodeType::Null);
    }
    return spec;
}

std::string Reader::object_namespace(const YAML::Node& doc) {
    if (const auto given = doc["metadata"]["namespace"]; given && given.IsScalar()) {
        return given.Scalar();
    }
    return "default";
}

void Reader::rule_object(const YAML::Node& doc, const std::string& kind, std::vector<Rule>& out) {
    const auto spec = object_spec(doc, kind);
    if (spec.IsNull()) {
        return;
    }
    const bool namespaced = kind == "SyncRule";
    const auto ns = object_namespace(doc);
    YAML::Node rule(YAML::NodeType::Map);
    rule["name"] = doc["metadata"]["name"];
    for (const auto& entry : spec) {
        if (entry.first.IsScalar() && entry.first.Scalar() == "name") {
            error(entry.first, "spec", "unknown field \"name\" (the object's name is the rule's)");
            return;
        }
        rule[entry.first] = entry.second;
    }
    if (namespaced) {
        if (const auto source = rule["source"]; source && source.IsMap()) {
            if (source["namespace"]) {
                error(source["namespace"], "spec.source.namespace",
                      "a SyncRule's source is in its own namespace");
                return;
            }
            YAML::Node copy = YAML::Clone(source);
            copy["namespace"] = ns;
            rule["source"] = copy;
        }
    }
    const auto before = out.size();
    this->rule(rule, "spec", out, nullptr);
    if (out.size() > before) {
        out.back().where = where(doc);
        if (namespaced) {
            out.back().name = ns + "/" + out.back().name;  // as the controller names it
        }
    }
}

void Reader::grant_object(const YAML::Node& doc, std::vector<std::string>& out) {
    const auto before = errors_.size();
    const auto spec = object_spec(doc, "SyncGrant");
    if (spec.IsNull() || !fields(spec, "spec", {"from"})) {
        return;
    }
    const auto name = string(doc["metadata"]["name"], "metadata.name");
    if (name) {
        if (const auto why = invalid_object_name("SyncGrant", *name)) {
            error(doc["metadata"]["name"], "metadata.name", *why);
        }
    }
    const auto from = spec["from"];
    if (!from) {
        error(spec, "spec", "missing field \"from\"");
        return;
    }
    if (!from.IsSequence() || from.size() == 0) {
        error(from, "spec.from",
              "expected a list of at least one namespace whose rules may write here");
        return;
    }
    for (std::size_t i = 0; i < from.size(); ++i) {
        const auto path = fmt::format("spec.from[{}]", i);
        const auto entry = from[i];
        if (!fields(entry, path, {"namespace", "kinds", "names"})) {
            continue;
        }
        if (const auto ns = entry["namespace"]; !ns) {
            error(entry, path, "missing field \"namespace\"");
        } else if (const auto text = string(ns, path + ".namespace")) {
            if (const auto why = invalid_namespace(*text)) {
                error(ns, path + ".namespace", *why);
            }
        }
        if (const auto kinds = entry["kinds"]) {
            strings(
                kinds, path + ".kinds", [](const std::string& kind) -> std::optional<std::string> {
                    if (const auto named = kube::kind_named(kind); named && named->name == kind) {
                        return std::nullopt;
                    }
                    return fmt::format("kind \"{}\": must be ConfigMap or Secret", kind);
                });
        }
        if (const auto names = entry["names"]) {
            strings(names, path + ".names",
                    [](const std::string& n) { return invalid_object_name("source", n); });
        }
    }
    if (errors_.size() == before && name) {
        out.push_back(fmt::format("{}: SyncGrant {}/{}", where(doc), object_namespace(doc), *name));
    }
}

}  // namespace cmsync::rules_internal
