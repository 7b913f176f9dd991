// RuleUnit: a watcher per rule and target cluster; each unit's state file and log prefix.
#include "controller/rule_units.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace cmsync {

namespace {

Rule rule(const std::string& name, ClusterRef source, std::vector<ClusterRef> targets) {
    Rule r;
    r.name = name;
    r.spec.source_namespace = "src";
    r.spec.selection.names = {"app"};
    r.spec.target_namespaces = {"web"};
    r.spec.source_cluster = std::move(source);
    r.spec.target_clusters = std::move(targets);
    return r;
}

const ClusterRef kHub{"hub", "hub-context"};
const ClusterRef kA{"member-a", "a-context"};
const ClusterRef kB{"member-b", "b-context"};

}  // namespace

TEST_CASE("rule_units: one per target cluster, across when the source is elsewhere") {
    const struct {
        const char* row;
        Rule rule;
        std::vector<std::string> clusters;
        std::vector<bool> across;
    } rows[] = {
        {"no cluster named: one unit, as before clusters", rule("r", {}, {}), {""}, {false}},
        {"two members from the hub",
         rule("r", kHub, {kA, kB}),
         {"member-a", "member-b"},
         {true, true}},
        {"the hub among the targets: in one cluster there",
         rule("r", kHub, {kHub, kA}),
         {"hub", "member-a"},
         {false, true}},
        {"a member's source, targets in the current cluster", rule("", kA, {}), {""}, {true}},
    };
    for (const auto& row : rows) {
        SUBCASE(row.row) {
            const auto units = rule_units(row.rule);
            REQUIRE(units.size() == row.clusters.size());
            for (std::size_t i = 0; i < units.size(); ++i) {
                CHECK(units[i].cluster == row.clusters[i]);
                CHECK(units[i].across == row.across[i]);
                CHECK(units[i].rule.name == row.rule.name);
            }
        }
    }
}

TEST_CASE("rule_units: fingerprints differ by cluster and follow the rule") {
    const auto units = rule_units(rule("r", kHub, {kA, kB}));
    CHECK(units[0].fingerprint != units[1].fingerprint);
    CHECK(rule_units(rule("r", kHub, {kA, kB}))[0].fingerprint == units[0].fingerprint);
    // the same cluster name on another context is another unit
    CHECK(rule_units(rule("r", kHub, {{"member-a", "other"}}))[0].fingerprint !=
          units[0].fingerprint);
    auto changed = rule("r", kHub, {kA, kB});
    changed.spec.target_namespaces = {"web", "api"};
    CHECK(rule_units(changed)[0].fingerprint != units[0].fingerprint);
}

TEST_CASE("unit_state_file: keyed by rule and cluster") {
    const struct {
        const char* base;
        const char* rule;
        const char* cluster;
        const char* path;
    } rows[] = {
        {"", "r", "member-a", ""},
        {"/s/state", "", "", "/s/state"},
        {"/s/state", "r", "", "/s/state.r"},
        {"/s/state", "ns/name", "", "/s/state.ns.name"},
        {"/s/state", "", "member-a", "/s/state.member-a"},
        {"/s/state", "r", "member-a", "/s/state.r.member-a"},
        {"/s/state", "r", "arn:aws:eks:eu-west-1:1:cluster/prod",
         "/s/state.r.arn_aws_eks_eu-west-1_1_cluster_prod"},
        {"/s/state", "r", "gke_proj_zone.c", "/s/state.r.gke_proj_zone.c"},
    };
    for (const auto& row : rows) {
        SUBCASE((std::string(row.base) + "|" + row.rule + "|" + row.cluster).c_str()) {
            CHECK(unit_state_file(row.base, row.rule, row.cluster) == row.path);
        }
    }
}

TEST_CASE("unit_log_prefix: the rule and the cluster, when named") {
    CHECK(unit_log_prefix("", "") == "");
    CHECK(unit_log_prefix("r", "") == "rule r: ");
    CHECK(unit_log_prefix("", "member-a") == "cluster member-a: ");
    CHECK(unit_log_prefix("r", "member-a") == "rule r, cluster member-a: ");
}

}  // namespace cmsync
