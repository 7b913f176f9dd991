#include "rules/sync_config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "kube/label_selector.hpp"
#include "kube/object.hpp"
#include "util/validate.hpp"

namespace cmsync {

namespace {

// A document's clusters by name.
using Clusters = std::map<std::string, ClusterRef>;

// Reads one file's YAML, collecting every problem with its position.
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

  private:
    std::string file_;
    std::vector<std::string>& errors_;
};

// A DNS label: lowercase letters, digits and '-', at most 63, a letter or digit at each end.
bool dns_label(const std::string& name) {
    const auto ok_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    bool ok = !name.empty() && name.size() <= 63 && ok_char(name.front()) && ok_char(name.back());
    for (const char c : name) {
        ok = ok && (ok_char(c) || c == '-');
    }
    return ok;
}

// Why `name` cannot name a `what` (a DNS label, as the rule names in logs and metrics, and as
// Cluster API and Argo CD name clusters), or nothing.
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
        if (!fields(item, path, {"name", "context"})) {
            continue;
        }
        std::optional<std::string> name;
        std::optional<std::string> context;
        for (const char* field : {"name", "context"}) {
            const auto value = item[field];
            if (!value) {
                error(item, path, fmt::format("missing field \"{}\"", field));
                continue;
            }
            auto text = string(value, fmt::format("{}.{}", path, field));
            if (text && text->empty()) {
                error(value, fmt::format("{}.{}", path, field), "expected a non-empty string");
                text.reset();
            }
            (std::string(field) == "name" ? name : context) = text;
        }
        if (name) {
            if (const auto why = invalid_label_name("cluster", *name)) {
                error(item["name"], path + ".name", *why);
            } else if (out.count(*name) != 0) {
                error(item["name"], path + ".name",
                      fmt::format("cluster \"{}\" is named twice", *name));
            } else if (context) {
                // One cluster, one name: copies record it, and two names would make one
                // cluster two (a namespace then its own source).
                const auto same = std::find_if(out.begin(), out.end(), [&](const auto& entry) {
                    return entry.second.context == *context;
                });
                if (same != out.end()) {
                    error(item["context"], path + ".context",
                          fmt::format("context \"{}\" is cluster \"{}\" already", *context,
                                      same->first));
                } else {
                    out.emplace(*name, ClusterRef{*name, *context});
                }
            }
        }
    }
    return out;
}

// The cluster `node` names, from `clusters`; nothing (and an error) when it is not there.
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

// "ClusterSyncRule" or "SyncRule" when `doc` is one (of any apiVersion: a wrong one is
// reported by rule_object).
std::optional<std::string> rule_object_kind(const YAML::Node& doc) {
    if (!doc.IsMap()) {
        return std::nullopt;
    }
    const auto kind = doc["kind"];
    if (kind && kind.IsScalar() &&
        (kind.Scalar() == "ClusterSyncRule" || kind.Scalar() == "SyncRule")) {
        return kind.Scalar();
    }
    return std::nullopt;
}

void Reader::rule_object(const YAML::Node& doc, const std::string& kind, std::vector<Rule>& out) {
    if (!fields(doc, kind, {"apiVersion", "kind", "metadata", "spec", "status"})) {
        return;
    }
    const auto api_version = doc["apiVersion"];
    if (!api_version || !api_version.IsScalar() || api_version.Scalar() != kSyncConfigApiVersion) {
        error(api_version ? api_version : doc, "apiVersion",
              fmt::format("expected \"{}\"", kSyncConfigApiVersion));
    }
    const auto meta = doc["metadata"];
    if (!meta || !meta.IsMap() || !meta["name"]) {
        error(meta ? meta : doc, "metadata", "expected a mapping with a name");
        return;
    }
    const auto spec = doc["spec"];
    if (!spec || !spec.IsMap()) {
        error(spec ? spec : doc, "spec", "expected a mapping");
        return;
    }
    const bool namespaced = kind == "SyncRule";
    // As kubectl apply without a namespace in the object or on the command line.
    std::string ns = "default";
    if (const auto given = meta["namespace"]; given && given.IsScalar()) {
        ns = given.Scalar();
    }
    YAML::Node rule(YAML::NodeType::Map);
    rule["name"] = meta["name"];
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

std::string rule_fingerprint(const Rule& rule) {
    const auto& r = rule.spec;
    const auto list = [](const std::vector<std::string>& items) {
        return fmt::format("[{}]", fmt::join(items, ","));
    };
    std::vector<std::string> clusters;
    for (const auto& c : r.target_clusters) {
        clusters.push_back(c.name + "=" + c.context);
    }
    return fmt::format("{}|{}|{}={}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", rule.name, r.kind.name,
                       r.source_cluster.name, r.source_cluster.context, r.source_namespace,
                       list(r.selection.names), r.selection.label_selector, r.selection.all,
                       list(clusters), list(r.target_namespaces), r.target_selector,
                       list(r.exclude_namespaces), r.keys ? list(*r.keys) : "*", r.prune,
                       r.granted_namespaces ? list(*r.granted_namespaces) : "*");
}

std::vector<std::string> check_rules(const std::vector<Rule>& rules) {
    std::vector<std::string> errors;
    std::map<std::string, const Rule*> by_name;
    for (const auto& rule : rules) {
        const auto [it, fresh] = by_name.emplace(rule.name, &rule);
        if (!fresh) {
            errors.push_back(fmt::format("{}: rule name \"{}\" is already used at {}", rule.where,
                                         rule.name, it->second->where));
        }
    }
    // One cluster name, one context, and the other way round, in every file.
    std::map<std::string, std::pair<std::string, const Rule*>> contexts;  // name -> context
    std::map<std::string, std::pair<std::string, const Rule*>> names;     // context -> name
    const auto one_to_one = [&](auto& map, const std::string& key, const std::string& value,
                                const Rule& rule, const char* what, const char* other) {
        const auto [it, fresh] = map.emplace(key, std::pair{value, &rule});
        if (!fresh && it->second.first != value) {
            errors.push_back(
                fmt::format("{}: {} \"{}\" is {} \"{}\" here and {} \"{}\" for rule \"{}\" at {}",
                            rule.where, what, key, other, value, other, it->second.first,
                            it->second.second->name, it->second.second->where));
            it->second.first = value;  // said once per pair
        }
    };
    for (const auto& rule : rules) {
        auto refs = rule.spec.target_clusters;
        refs.push_back(rule.spec.source_cluster);
        for (const auto& ref : refs) {
            if (!ref.current()) {
                one_to_one(contexts, ref.name, ref.context, rule, "cluster", "context");
                one_to_one(names, ref.context, ref.name, rule, "context", "cluster");
            }
        }
    }
    // Targets known before any request: named sources into listed namespaces, by kind and
    // cluster (a context; empty: the current one).
    using Target = std::tuple<std::string_view, std::string, kube::ObjectRef>;
    std::map<Target, const Rule*> managed;
    const auto source_text = [](const SyncSpec& s, const std::string& name) {
        return (s.source_cluster.current() ? "" : s.source_cluster.name + "/") +
               s.source_namespace + "/" + name;
    };
    for (const auto& rule : rules) {
        const auto& r = rule.spec;
        for (const auto& cluster : cmsync::target_clusters(r)) {
            const auto where = cluster.current() ? std::string() : cluster.name + "/";
            for (const auto& ns : r.target_namespaces) {
                if (!may_target(r, ns, cluster == r.source_cluster)) {
                    continue;
                }
                for (const auto& name : r.selection.names) {
                    const auto [it, fresh] = managed.emplace(
                        Target{r.kind.name, cluster.context, kube::ObjectRef{ns, name}}, &rule);
                    const auto& other = *it->second;
                    if (!fresh && (other.spec.source_cluster.context != r.source_cluster.context ||
                                   other.spec.source_namespace != r.source_namespace)) {
                        errors.push_back(fmt::format(
                            "{}: rules \"{}\" and \"{}\" would both manage {} {}{}/{}, from {} "
                            "and {}",
                            rule.where, other.name, rule.name, r.kind.name, where, ns, name,
                            source_text(other.spec, name), source_text(r, name)));
                    }
                }
            }
        }
    }
    return errors;
}

}  // namespace cmsync
