#include "rules/sync_config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <sstream>

#include "rules/yaml_reader.hpp"
#include "util/validate.hpp"

namespace cmsync {

namespace {

using rules_internal::Clusters;
using rules_internal::Reader;

}  // namespace

namespace rules_internal {

void Reader::rule(const YAML::Node& node, const std::string& path, std::vector<Rule>& out,
                  const Clusters* clusters) {
    const auto before = errors_.size();
    if (!fields(node, path, {"name", "source", "targets", "keys", "prune"})) {
        return;
    }
    Rule rule;
    rule.where = where(node);
    auto& r = rule.spec;
    const auto required = [&](const YAML::Node& parent, const char* key, const std::string& p) {
        const auto child = parent[key];
        if (!child) {
            error(parent, p, fmt::format("missing field \"{}\"", key));
        }
        return child;
    };
    if (const auto name = required(node, "name", path)) {
        if (const auto text = string(name, path + ".name")) {
            rule.name = *text;
            if (const auto why = invalid_label_name("rule", *text)) {
                error(name, path + ".name", *why);
            }
        }
    }
    const auto source = required(node, "source", path);
    if (source && fields(source, path + ".source",
                         {"kind", "cluster", "namespace", "names", "selector", "all"})) {
        const auto sp = path + ".source";
        if (const auto cluster = source["cluster"]) {
            if (const auto ref = named_cluster(*this, cluster, sp + ".cluster", clusters)) {
                r.source_cluster = *ref;
            }
        }
        if (const auto kind = source["kind"]) {
            if (const auto text = string(kind, sp + ".kind")) {
                // The object's kind as the API spells it, as in the rule's apiVersion/kind.
                if (const auto named = kube::kind_named(*text); named && named->name == *text) {
                    r.kind = *named;
                } else {
                    error(kind, sp + ".kind",
                          fmt::format("kind \"{}\": must be ConfigMap or Secret", *text));
                }
            }
        }
        if (const auto ns = required(source, "namespace", sp)) {
            if (const auto text = string(ns, sp + ".namespace")) {
                r.source_namespace = *text;
                if (const auto why = invalid_namespace(*text)) {
                    error(ns, sp + ".namespace", *why);
                }
            }
        }
        const int selections =
            (source["names"] ? 1 : 0) + (source["selector"] ? 1 : 0) + (source["all"] ? 1 : 0);
        if (selections != 1) {
            error(source, sp, "give exactly one of names, selector and all");
        }
        if (const auto names = source["names"]) {
            const auto invalid_name = [&r](const std::string& name) {
                return invalid_object_name(r.kind.name, name);
            };
            if (const auto list = strings(names, sp + ".names", invalid_name)) {
                r.selection.names = *list;
            }
        }
        if (const auto sel = source["selector"]) {
            if (const auto text = selector(sel, sp + ".selector")) {
                r.selection.label_selector = *text;
            }
        }
        if (const auto all = source["all"]) {
            const auto value = boolean(all, sp + ".all");
            if (value && !*value) {
                error(all, sp + ".all", "all: false selects nothing; give names or a selector");
            }
            r.selection.all = value.value_or(false);
        }
    }
    const auto targets = required(node, "targets", path);
    if (targets &&
        fields(targets, path + ".targets", {"clusters", "namespaces", "selector", "exclude"})) {
        const auto tp = path + ".targets";
        if (!targets["namespaces"] && !targets["selector"]) {
            error(targets, tp, "give namespaces, a selector or both");
        }
        if (const auto list = targets["clusters"]) {
            target_clusters(list, tp + ".clusters", clusters, r);
        }
        // A namespace of the source's name is another namespace in another cluster.
        const auto all_targets = cmsync::target_clusters(r);
        const bool source_cluster_is_target = std::find(all_targets.begin(), all_targets.end(),
                                                        r.source_cluster) != all_targets.end();
        if (const auto list = targets["namespaces"]) {
            if (const auto names = strings(list, tp + ".namespaces", invalid_namespace)) {
                r.target_namespaces = *names;
                for (std::size_t i = 0; i < names->size(); ++i) {
                    if (source_cluster_is_target && (*names)[i] == r.source_namespace) {
                        error(list[i], fmt::format("{}.namespaces[{}]", tp, i),
                              fmt::format("target namespace \"{}\" is the source namespace",
                                          (*names)[i]));
                    }
                }
            }
        }
        if (const auto sel = targets["selector"]) {
            if (const auto text = selector(sel, tp + ".selector")) {
                r.target_selector = *text;
            }
        }
        if (const auto list = targets["exclude"]) {
            if (const auto names = strings(list, tp + ".exclude", invalid_namespace)) {
                r.exclude_namespaces = *names;
            }
        }
    }
    if (const auto keys = node["keys"]) {
        if (const auto list = strings(keys, path + ".keys", invalid_key)) {
            r.keys = *list;
        }
    }
    if (const auto prune = node["prune"]) {
        rule.spec.prune = boolean(prune, path + ".prune").value_or(false);
    }
    if (errors_.size() == before) {
        out.push_back(std::move(rule));
    }
}

}  // namespace rules_internal

namespace {

// yaml-cpp 0.7's LoadAll never returns on some invalid streams, e.g. one starting with ","
// (found by fuzzing, issue 17; jbeder/yaml-cpp#1040, fixed after 0.8 by #1319): the parser
// reports a null document without consuming a token, forever, and LoadAll keeps each one.
// Counting the documents with events only stops where no text could hold more.
class DocumentCounter : public YAML::EventHandler {
  public:
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

bool endless_stream(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentCounter counter;
    for (std::size_t documents = 0; parser.HandleNextDocument(counter); ++documents) {
        if (documents > text.size()) {  // a document takes at least one byte
            return true;
        }
    }
    return false;
}

// "ClusterSyncRule", "SyncRule" or "SyncGrant" when `doc` is one (of any apiVersion: a wrong
// one is reported by rule_object).
std::optional<std::string> rule_object_kind(const YAML::Node& doc) {
    if (!doc.IsMap()) {
        return std::nullopt;
    }
    const auto kind = doc["kind"];
    if (kind && kind.IsScalar() &&
        (kind.Scalar() == "ClusterSyncRule" || kind.Scalar() == "SyncRule" ||
         kind.Scalar() == "SyncGrant")) {
        return kind.Scalar();
    }
    return std::nullopt;
}

}  // namespace

ParsedRules parse_sync_config(const std::string& text, const std::string& file,
                              RuleObjects objects) {
    ParsedRules parsed;
    Reader reader(file, parsed.errors);
    std::vector<YAML::Node> documents;
    try {
        if (endless_stream(text)) {
            parsed.errors.push_back(
                fmt::format("{}: invalid YAML: the document stream has no end", file));
            return parsed;
        }
        documents = YAML::LoadAll(text);
    } catch (const YAML::ParserException& e) {
        parsed.errors.push_back(fmt::format("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1,
                                            e.mark.column + 1, e.msg));
        return parsed;
    }
    int configs = 0;
    for (const auto& doc : documents) {
        if (doc.IsNull()) {
            continue;  // an empty document, e.g. after a trailing ---
        }
        ++configs;
        if (const auto kind = rule_object_kind(doc)) {
            if (objects == RuleObjects::refuse) {
                reader.error(doc["kind"], "kind",
                             fmt::format("a {} is applied with kubectl and run by `watch "
                                         "--rules-from-cluster`; a rules file holds a SyncConfig",
                                         *kind));
            } else if (*kind == "SyncGrant") {
                reader.grant_object(doc, parsed.grants);
            } else {
                reader.rule_object(doc, *kind, parsed.rules);
            }
            continue;
        }
        if (!reader.fields(doc, "SyncConfig", {"apiVersion", "kind", "clusters", "rules"})) {
            continue;
        }
        const auto api_version = doc["apiVersion"];
        if (!api_version || !api_version.IsScalar() ||
            api_version.Scalar() != kSyncConfigApiVersion) {
            reader.error(api_version ? api_version : doc, "apiVersion",
                         fmt::format("expected \"{}\"", kSyncConfigApiVersion));
        }
        const auto kind = doc["kind"];
        if (!kind || !kind.IsScalar() || kind.Scalar() != kSyncConfigKind) {
            reader.error(kind ? kind : doc, "kind",
                         fmt::format("expected \"{}\"", kSyncConfigKind));
        }
        const auto rules = doc["rules"];
        if (!rules || !rules.IsSequence() || rules.size() == 0) {
            reader.error(rules ? rules : doc, "rules", "expected a list of at least one rule");
            continue;
        }
        Clusters clusters;
        if (const auto list = doc["clusters"]) {
            clusters = reader.clusters(list);
        }
        for (std::size_t i = 0; i < rules.size(); ++i) {
            reader.rule(rules[i], fmt::format("rules[{}]", i), parsed.rules, &clusters);
        }
    }
    if (configs == 0) {
        parsed.errors.push_back(fmt::format(
            "{}:1:1: no {} in this file", file,
            objects == RuleObjects::accept ? "SyncConfig or rule object" : "SyncConfig"));
    }
    return parsed;
}

}  // namespace cmsync
