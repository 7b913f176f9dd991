// Clusters in rules files and on the command line (issue 30): parsing, checks across rules,
// and binding to the kubeconfig's contexts before any request.
#include <doctest/doctest.h>

#include "error.hpp"
#include "rules/cluster_binding.hpp"
#include "rules/sync_config.hpp"

using cmsync::ClusterRef;
using cmsync::parse_sync_config;

namespace {

const std::string kClusters =
    "apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\n"
    "clusters:\n"
    "  - {name: hub, context: hub-ctx}\n"
    "  - {name: prod-eu, context: eu}\n"
    "  - {name: prod-us, context: us}\n"
    "rules:\n";

// The only error of `body` (rules after the clusters), which must fail. A rule is dropped when
// it has an error of its own; an error in the clusters list fails the file, not its rules.
std::string only_error(const std::string& body, const std::string& head = kClusters,
                       std::size_t rules_kept = 0) {
    const auto parsed = parse_sync_config(head + body, "f.yaml");
    REQUIRE(parsed.errors.size() == 1);
    CHECK(parsed.rules.size() == rules_kept);
    return parsed.errors.front();
}

cmsync::Rule one_rule(const std::string& body) {
    const auto parsed = parse_sync_config(kClusters + body, "f.yaml");
    REQUIRE(parsed.errors.empty());
    REQUIRE(parsed.rules.size() == 1);
    return parsed.rules.front();
}

}  // namespace

TEST_CASE("rules file: source.cluster and targets.clusters name the file's clusters") {
    const auto r = one_rule(
        "  - name: app\n"
        "    source: {cluster: hub, namespace: platform, names: [app-config]}\n"
        "    targets: {clusters: [prod-eu, prod-us], namespaces: [platform, web]}\n");
    CHECK(r.spec.source_cluster == ClusterRef{"hub", "hub-ctx"});
    CHECK(r.spec.target_clusters == std::vector<ClusterRef>{{"prod-eu", "eu"}, {"prod-us", "us"}});
    // the source's namespace name is another namespace in another cluster
    CHECK(r.spec.target_namespaces == std::vector<std::string>{"platform", "web"});
    CHECK(cmsync::names_clusters(r.spec));

    SUBCASE("no cluster named: the current context, as before") {
        const auto plain = one_rule(
            "  - name: app\n"
            "    source: {namespace: platform, names: [app-config]}\n"
            "    targets: {namespaces: [web]}\n");
        CHECK(plain.spec.source_cluster.current());
        CHECK(plain.spec.target_clusters.empty());
        CHECK_FALSE(cmsync::names_clusters(plain.spec));
        CHECK(cmsync::target_clusters(plain.spec) == std::vector<ClusterRef>{ClusterRef{}});
    }
    SUBCASE("the fingerprint changes with the clusters (watch -f restarts the rule)") {
        auto moved = r;
        moved.spec.target_clusters.pop_back();
        CHECK(cmsync::rule_fingerprint(moved) != cmsync::rule_fingerprint(r));
        auto other_context = r;
        other_context.spec.source_cluster.context = "hub-2";
        CHECK(cmsync::rule_fingerprint(other_context) != cmsync::rule_fingerprint(r));
    }
}

TEST_CASE("rules file: every cluster error, with its position") {
    const std::string rule_tail = ", namespace: p, names: [x]}\n    targets: {namespaces: [w]}\n";
    SUBCASE("an unknown cluster names the known ones") {
        CHECK(only_error("  - name: a\n    source: {cluster: prod-asia" + rule_tail) ==
              "f.yaml:9:23: rules[0].source.cluster: unknown cluster \"prod-asia\" (clusters: "
              "hub, prod-eu, prod-us)");
    }
    SUBCASE("a cluster in a file that names none") {
        CHECK(only_error("  - name: a\n    source: {cluster: hub" + rule_tail,
                         "apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\nrules:\n") ==
              "f.yaml:5:23: rules[0].source.cluster: unknown cluster \"hub\": the file names no "
              "clusters (add it to clusters: with its context)");
    }
    SUBCASE("an unknown target cluster") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, names: [x]}\n"
                         "    targets: {clusters: [prod-eu, nope], namespaces: [w]}\n") ==
              "f.yaml:10:35: rules[0].targets.clusters[1]: unknown cluster \"nope\" (clusters: "
              "hub, prod-eu, prod-us)");
    }
    SUBCASE("a target cluster listed twice") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, names: [x]}\n"
                         "    targets: {clusters: [prod-eu, prod-eu], namespaces: [w]}\n") ==
              "f.yaml:10:35: rules[0].targets.clusters[1]: cluster \"prod-eu\" is listed twice");
    }
    SUBCASE("targets.clusters is a list") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, names: [x]}\n"
                         "    targets: {clusters: prod-eu, namespaces: [w]}\n") ==
              "f.yaml:10:25: rules[0].targets.clusters: expected a list of at least one cluster "
              "name");
    }
    SUBCASE("the source namespace as a target in the source's own cluster") {
        CHECK(only_error("  - name: a\n    source: {cluster: hub, namespace: p, names: [x]}\n"
                         "    targets: {clusters: [prod-eu, hub], namespaces: [w, p]}\n") ==
              "f.yaml:10:57: rules[0].targets.namespaces[1]: target namespace \"p\" is the source "
              "namespace");
    }
    const std::string head = "apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\n";
    const std::string rules =
        "rules:\n  - name: a\n    source: {namespace: p, names: [x]}\n"
        "    targets: {namespaces: [w]}\n";
    SUBCASE("a cluster named twice") {
        CHECK(only_error(rules,
                         head + "clusters:\n  - {name: eu, context: a}\n"
                                "  - {name: eu, context: b}\n",
                         1) == "f.yaml:5:12: clusters[1].name: cluster \"eu\" is named twice");
    }
    SUBCASE("two names for one context") {
        CHECK(only_error(rules,
                         head + "clusters:\n  - {name: eu, context: a}\n"
                                "  - {name: europe, context: a}\n",
                         1) ==
              "f.yaml:5:29: clusters[1].context: context \"a\" is cluster \"eu\" already");
    }
    SUBCASE("a cluster name that is not a DNS label") {
        CHECK(only_error(rules, head + "clusters:\n  - {name: Prod_EU, context: a}\n", 1) ==
              "f.yaml:4:12: clusters[0].name: invalid cluster name \"Prod_EU\": use lowercase "
              "letters, digits and '-' (at most 63, starting and ending with a letter or digit)");
    }
    SUBCASE("a cluster without a context") {
        CHECK(only_error(rules, head + "clusters:\n  - {name: eu}\n", 1) ==
              "f.yaml:4:5: clusters[0]: missing field \"context\" (a kubeconfig context) or "
              "\"secret\" (a Cluster API or Argo CD cluster Secret)");
    }
    SUBCASE("an empty context") {
        CHECK(only_error(rules, head + "clusters:\n  - {name: eu, context: \"\"}\n", 1) ==
              "f.yaml:4:25: clusters[0].context: expected a non-empty string");
    }
    SUBCASE("an unknown field of a cluster") {
        CHECK(only_error(rules, head + "clusters:\n  - {name: eu, context: a, server: x}\n", 1) ==
              "f.yaml:4:28: clusters[0]: unknown field \"server\" (known: context, name, secret)");
    }
    SUBCASE("a cluster with a context and a Secret") {
        CHECK(only_error(rules, head + "clusters:\n  - {name: eu, context: a, secret: s}\n", 1) ==
              "f.yaml:4:5: clusters[0]: give context or secret, not both");
    }
    SUBCASE("a Secret name that is not a DNS subdomain") {
        CHECK(only_error(rules, head + "clusters:\n  - {name: eu, secret: Eu_Kubeconfig}\n", 1) ==
              "f.yaml:4:24: clusters[0].secret: invalid Secret name \"Eu_Kubeconfig\": must be a "
              "lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.', at most 253 characters)");
    }
    SUBCASE("an empty Secret name") {
        CHECK(only_error(rules, head + "clusters:\n  - {name: eu, secret: \"\"}\n", 1) ==
              "f.yaml:4:24: clusters[0].secret: expected a non-empty string");
    }
    SUBCASE("two names for one Secret") {
        CHECK(only_error(rules,
                         head + "clusters:\n  - {name: eu, secret: s}\n"
                                "  - {name: europe, secret: s}\n",
                         1) ==
              "f.yaml:5:28: clusters[1].secret: Secret \"s\" is cluster \"eu\" already");
    }
    SUBCASE("clusters is a list") {
        CHECK(only_error(rules, head + "clusters: {eu: a}\n", 1) ==
              "f.yaml:3:11: clusters: expected a list of at least one cluster");
    }
}

TEST_CASE("rules file: a rule object cannot name a cluster yet") {
    const auto parsed = parse_sync_config(
        "apiVersion: cmsync.io/v1alpha1\nkind: ClusterSyncRule\nmetadata: {name: a}\n"
        "spec:\n  source: {cluster: hub, namespace: p, names: [x]}\n"
        "  targets: {namespaces: [w]}\n",
        "o.yaml", cmsync::RuleObjects::accept);
    REQUIRE(parsed.errors.size() == 1);
    CHECK(parsed.errors.front() ==
          "o.yaml:5:21: spec.source.cluster: a rule object cannot name a cluster yet: name "
          "clusters in a rules file");
}

TEST_CASE("rules file: checks across rules with clusters") {
    const auto rules_of = [](const std::string& body) {
        auto parsed = parse_sync_config(kClusters + body, "f.yaml");
        REQUIRE(parsed.errors.empty());
        return parsed.rules;
    };
    SUBCASE("two sources of one copy in the same cluster") {
        const auto errors = cmsync::check_rules(
            rules_of("  - name: one\n    source: {cluster: hub, namespace: a, names: [x]}\n"
                     "    targets: {clusters: [prod-eu], namespaces: [w]}\n"
                     "  - name: two\n    source: {cluster: prod-us, namespace: a, names: [x]}\n"
                     "    targets: {clusters: [prod-eu], namespaces: [w]}\n"));
        REQUIRE(errors.size() == 1);
        CHECK(errors.front() ==
              "f.yaml:11:5: rules \"one\" and \"two\" would both manage ConfigMap prod-eu/w/x, "
              "from hub/a/x and prod-us/a/x");
    }
    SUBCASE("the same copy name in two clusters is two copies") {
        CHECK(cmsync::check_rules(
                  rules_of("  - name: one\n    source: {cluster: hub, namespace: a, names: [x]}\n"
                           "    targets: {clusters: [prod-eu], namespaces: [w]}\n"
                           "  - name: two\n    source: {cluster: hub, namespace: b, names: [x]}\n"
                           "    targets: {clusters: [prod-us], namespaces: [w]}\n"))
                  .empty());
    }
    SUBCASE("one cluster name for two contexts across files") {
        auto rules = rules_of(
            "  - name: one\n    source: {cluster: hub, namespace: a, names: [x]}\n"
            "    targets: {namespaces: [w]}\n");
        auto other = parse_sync_config(
            "apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\n"
            "clusters: [{name: hub, context: other-hub}]\nrules:\n"
            "  - name: two\n    source: {cluster: hub, namespace: a, names: [y]}\n"
            "    targets: {namespaces: [w]}\n",
            "g.yaml");
        REQUIRE(other.errors.empty());
        rules.push_back(other.rules.front());
        const auto errors = cmsync::check_rules(rules);
        REQUIRE(errors.size() == 1);
        CHECK(errors.front() ==
              "g.yaml:5:5: cluster \"hub\" is context \"other-hub\" here and context \"hub-ctx\" "
              "for rule \"one\" at f.yaml:8:5");
    }
}

TEST_CASE("bind_clusters: contexts checked before any request, the current one named") {
    const std::vector<std::string> contexts{"hub-ctx", "eu", "us"};
    const auto rule = [](cmsync::SyncSpec spec, std::string where = "f.yaml:3:5") {
        return cmsync::Rule{"r", std::move(spec), std::move(where)};
    };
    cmsync::SyncSpec spec;
    spec.source_namespace = "platform";
    spec.target_namespaces = {"platform", "web"};
    SUBCASE("rules naming no cluster are left alone") {
        std::vector<cmsync::Rule> rules{rule(spec)};
        cmsync::bind_clusters(rules, {}, "");
        CHECK(rules.front().spec.target_clusters.empty());
        CHECK(rules.front().spec.source_cluster.current());
    }
    SUBCASE("beside a rule naming one, a rule naming none is bound to the current context") {
        spec.target_namespaces = {"web"};
        auto named = spec;
        named.target_clusters = {{"prod-eu", "eu"}};
        std::vector<cmsync::Rule> rules{rule(spec), rule(named)};
        cmsync::bind_clusters(rules, contexts, "us");
        CHECK(rules[0].spec.source_cluster == ClusterRef{"us", "us"});
        CHECK(rules[0].spec.target_clusters == std::vector<ClusterRef>{{"us", "us"}});
        CHECK(rules[1].spec.source_cluster == ClusterRef{"us", "us"});
    }
    SUBCASE("the current context takes the name of a named cluster of that context") {
        spec.target_clusters = {{"prod-eu", "eu"}};
        auto hub = rule(spec);
        auto named = spec;
        named.source_cluster = {"hub", "hub-ctx"};
        named.target_namespaces = {"web"};
        std::vector<cmsync::Rule> rules{hub, rule(named)};
        cmsync::bind_clusters(rules, contexts, "hub-ctx");
        CHECK(rules[0].spec.source_cluster == ClusterRef{"hub", "hub-ctx"});
        CHECK(rules[0].spec.target_clusters == std::vector<ClusterRef>{{"prod-eu", "eu"}});
    }
    SUBCASE("else the current context's own name; a default target cluster is made explicit") {
        spec.source_cluster = {"prod-eu", "eu"};
        std::vector<cmsync::Rule> rules{rule(spec)};
        cmsync::bind_clusters(rules, contexts, "us");
        CHECK(rules[0].spec.target_clusters == std::vector<ClusterRef>{{"us", "us"}});
    }
    SUBCASE("an unknown context is a usage error naming it and its cluster") {
        spec.target_clusters = {{"prod-asia", "asia"}};
        std::vector<cmsync::Rule> rules{rule(spec)};
        CHECK_THROWS_WITH_AS(cmsync::bind_clusters(rules, contexts, "hub-ctx"),
                             "f.yaml:3:5: unknown context \"asia\" (cluster \"prod-asia\"): the "
                             "kubeconfig has hub-ctx, eu, us",
                             cmsync::UsageError);
    }
    SUBCASE("on the command line, no position") {
        spec.source_cluster = {"nope", "nope"};
        std::vector<cmsync::Rule> rules{rule(spec, "")};
        CHECK_THROWS_WITH_AS(cmsync::bind_clusters(rules, contexts, "hub-ctx"),
                             "unknown context \"nope\" (cluster \"nope\"): the kubeconfig has "
                             "hub-ctx, eu, us",
                             cmsync::UsageError);
    }
    SUBCASE("the source namespace as a target once the current context is the source's") {
        spec.source_cluster = {"hub-ctx", "hub-ctx"};
        std::vector<cmsync::Rule> rules{rule(spec, "")};
        CHECK_THROWS_WITH_AS(
            cmsync::bind_clusters(rules, contexts, "hub-ctx"),
            "target namespace \"platform\" is the source namespace (cluster \"hub-ctx\")",
            cmsync::UsageError);
    }
    SUBCASE("the current context given again by name is a target twice") {
        spec.target_namespaces = {"web"};
        spec.target_clusters = {{}, {"hub-ctx", "hub-ctx"}};
        std::vector<cmsync::Rule> rules{rule(spec, "")};
        CHECK_THROWS_WITH_AS(cmsync::bind_clusters(rules, contexts, "hub-ctx"),
                             "cluster \"hub-ctx\" (context \"hub-ctx\") is a target twice",
                             cmsync::UsageError);
    }
    SUBCASE("no current context to name") {
        spec.source_cluster = {"prod-eu", "eu"};
        std::vector<cmsync::Rule> rules{rule(spec)};
        CHECK_THROWS_WITH_AS(cmsync::bind_clusters(rules, contexts, ""),
                             "f.yaml:3:5: clusters are kubeconfig contexts and no current context "
                             "is set: give --context or name every cluster",
                             cmsync::UsageError);
    }
}

TEST_CASE("rules file: clusters from Secrets (in the cluster)") {
    const std::string head =
        "apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\n"
        "clusters:\n"
        "  - {name: hub, context: in-cluster}\n"
        "  - {name: member-a, secret: member-a-kubeconfig}\n"
        "  - {name: member-b, secret: cluster-member-b}\n"
        "rules:\n"
        "  - name: app\n"
        "    source: {cluster: hub, namespace: platform, names: [app-config]}\n"
        "    targets: {clusters: [member-a, member-b], namespaces: [platform]}\n";
    auto parsed = parse_sync_config(head, "f.yaml");
    REQUIRE(parsed.errors.empty());
    auto& spec = parsed.rules.front().spec;
    CHECK(spec.target_clusters == std::vector<ClusterRef>{{"member-a", "", "member-a-kubeconfig"},
                                                          {"member-b", "", "cluster-member-b"}});
    CHECK(spec.target_clusters.front().source() == "Secret \"member-a-kubeconfig\"");
    CHECK_FALSE(spec.target_clusters.front().current());
    CHECK(cmsync::names_clusters(spec));

    SUBCASE("bound in the cluster: context in-cluster is the cluster cmsync runs in") {
        spec.source_cluster = ClusterRef{};
        parsed.rules.push_back(parsed.rules.front());
        parsed.rules.back().name = "named";
        parsed.rules.back().spec.source_cluster = ClusterRef{"hub", "in-cluster"};
        parsed.rules.back().spec.selection.names = {"other"};
        cmsync::bind_clusters(parsed.rules, {cmsync::kInClusterContext}, cmsync::kInClusterContext);
        const auto& bound = parsed.rules.front().spec;
        CHECK(bound.source_cluster == ClusterRef{"hub", "in-cluster"});
        CHECK(bound.target_clusters.size() == 2);  // Secrets need no context
        CHECK(cmsync::check_rules(parsed.rules).empty());
    }
    SUBCASE("unnamed, the cluster cmsync runs in is called in-cluster") {
        auto rules = parse_sync_config(
                         "apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\n"
                         "clusters: [{name: member-a, secret: member-a-kubeconfig}]\nrules:\n"
                         "  - name: app\n    source: {namespace: p, names: [x]}\n"
                         "    targets: {clusters: [member-a], namespaces: [p]}\n",
                         "f.yaml")
                         .rules;
        cmsync::bind_clusters(rules, {cmsync::kInClusterContext}, cmsync::kInClusterContext);
        CHECK(rules.front().spec.source_cluster == ClusterRef{"in-cluster", "in-cluster"});
    }
    SUBCASE("one cluster name for a Secret here and a context there") {
        auto other = parse_sync_config(
            "apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\n"
            "clusters: [{name: member-a, context: a}]\nrules:\n"
            "  - name: two\n    source: {cluster: member-a, namespace: a, names: [y]}\n"
            "    targets: {namespaces: [w]}\n",
            "g.yaml");
        REQUIRE(other.errors.empty());
        parsed.rules.push_back(other.rules.front());
        const auto errors = cmsync::check_rules(parsed.rules);
        REQUIRE(errors.size() == 1);
        CHECK(errors.front() ==
              "g.yaml:5:5: cluster \"member-a\" is context \"a\" here and Secret "
              "\"member-a-kubeconfig\" for rule \"app\" at f.yaml:8:5");
    }
    SUBCASE("two rules writing one copy through one Secret from two sources") {
        auto second = parsed.rules.front();
        second.name = "second";
        second.spec.source_namespace = "other";
        second.where = "f.yaml:20:5";
        parsed.rules.push_back(second);
        const auto errors = cmsync::check_rules(parsed.rules);
        REQUIRE(errors.size() == 2);  // once per target cluster
        CHECK(
            errors.front() ==
            "f.yaml:20:5: rules \"app\" and \"second\" would both manage ConfigMap "
            "member-a/platform/app-config, from hub/platform/app-config and hub/other/app-config");
    }
    SUBCASE("the fingerprint changes with the Secret (watch -f restarts the rule)") {
        auto moved = parsed.rules.front();
        moved.spec.target_clusters.front().secret = "member-a-kubeconfig-2";
        CHECK(cmsync::rule_fingerprint(moved) != cmsync::rule_fingerprint(parsed.rules.front()));
    }
}
