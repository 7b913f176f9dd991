#include "rules/sync_config.hpp"

#include <doctest/doctest.h>

#include "test_inputs.hpp"

using cmsync::check_rules;
using cmsync::parse_sync_config;

namespace {

const std::string kHeader = "apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\nrules:\n";

// The only error of `body` (rules after the header), which must fail.
std::string only_error(const std::string& body) {
    const auto parsed = parse_sync_config(kHeader + body, "f.yaml");
    REQUIRE(parsed.errors.size() == 1);
    CHECK(parsed.rules.empty());
    return parsed.errors.front();
}

const std::string kRule =
    "  - name: app\n"
    "    source: {namespace: platform, names: [app-config]}\n"
    "    targets: {namespaces: [web, api]}\n";

}  // namespace

TEST_CASE("rules file: a full rule and the three selections") {
    const auto parsed = parse_sync_config(kHeader + R"y(  - name: app-config
    source: {namespace: platform, names: [app-config]}
    targets:
      namespaces: [web, api]
      selector: "team in (web,api)"
      exclude: [kube-system]
    keys: [config.yaml]
    prune: true
  - name: flags
    source: {namespace: platform, selector: "sync=true"}
    targets: {namespaces: [web]}
  - name: everything
    source: {namespace: platform, all: true}
    targets: {selector: env=prod}
)y",
                                          "f.yaml");
    REQUIRE(parsed.errors.empty());
    REQUIRE(parsed.rules.size() == 3);
    const auto& r = parsed.rules[0];
    CHECK(r.name == "app-config");
    CHECK(r.where == "f.yaml:4:5");
    CHECK(r.spec.source_namespace == "platform");
    CHECK(r.spec.selection.names == std::vector<std::string>{"app-config"});
    CHECK(r.spec.target_namespaces == std::vector<std::string>{"web", "api"});
    CHECK(r.spec.target_selector == "team in (web,api)");
    CHECK(r.spec.exclude_namespaces == std::vector<std::string>{"kube-system"});
    CHECK(r.spec.keys == std::vector<std::string>{"config.yaml"});
    CHECK(r.spec.prune);
    CHECK(parsed.rules[1].spec.selection.label_selector == "sync=true");
    CHECK_FALSE(parsed.rules[1].spec.keys);
    CHECK(parsed.rules[2].spec.selection.all);
    CHECK(check_rules(parsed.rules).empty());
}

TEST_CASE("rules file: every validation error, with its position") {
    SUBCASE("unknown field") {
        CHECK(only_error(kRule + "    force: true\n") ==
              "f.yaml:7:5: rules[0]: unknown field \"force\" (known: keys, name, prune, source, "
              "targets)");
    }
    SUBCASE("unknown field in source") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, names: [x], label: y}\n"
                         "    targets: {namespaces: [w]}\n") ==
              "f.yaml:5:40: rules[0].source: unknown field \"label\" (known: all, cluster, kind, "
              "names, namespace, selector)");
    }
    SUBCASE("a source kind other than ConfigMap or Secret, spelt as the API spells it") {
        for (const char* kind : {"Pod", "secret", "cm"}) {
            CAPTURE(kind);
            CHECK(only_error(std::string("  - name: a\n    source: {kind: ") + kind +
                             ", namespace: p, names: [x]}\n    targets: {namespaces: [w]}\n")
                      .find("rules[0].source.kind: kind \"" + std::string(kind) +
                            "\": must be ConfigMap or Secret") != std::string::npos);
        }
    }
    SUBCASE("a Secret name is checked as a Secret's") {
        CHECK(only_error("  - name: a\n    source: {kind: Secret, namespace: p, names: [Tls]}\n"
                         "    targets: {namespaces: [w]}\n")
                  .find("invalid Secret name \"Tls\"") != std::string::npos);
    }
    SUBCASE("wrong type: a string where a list belongs") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, names: x}\n"
                         "    targets: {namespaces: [w]}\n") ==
              "f.yaml:5:35: rules[0].source.names: expected a list of strings");
    }
    SUBCASE("wrong type: a quoted boolean") {
        CHECK(only_error(kRule + "    prune: \"false\"\n") ==
              "f.yaml:7:12: rules[0].prune: expected true or false");
    }
    SUBCASE("bad namespace") {
        CHECK(only_error("  - name: a\n    source: {namespace: Bad_NS, all: true}\n"
                         "    targets: {namespaces: [w]}\n")
                  .rfind("f.yaml:5:25: rules[0].source.namespace: invalid namespace \"Bad_NS\"",
                         0) == 0);
    }
    SUBCASE("bad target namespace") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, all: true}\n"
                         "    targets: {namespaces: [w, -x]}\n")
                  .rfind("f.yaml:6:31: rules[0].targets.namespaces[1]: invalid namespace", 0) == 0);
    }
    SUBCASE("bad ConfigMap name") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, names: [Bad_Name]}\n"
                         "    targets: {namespaces: [w]}\n")
                  .rfind("f.yaml:5:36: rules[0].source.names[0]: ", 0) == 0);
    }
    SUBCASE("bad key") {
        CHECK(only_error(kRule + "    keys: [ok, bad/key]\n")
                  .rfind("f.yaml:7:16: rules[0].keys[1]: ", 0) == 0);
    }
    SUBCASE("bad label selectors") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, selector: \"a in (\"}\n"
                         "    targets: {namespaces: [w]}\n") ==
              "f.yaml:5:38: rules[0].source.selector: invalid label selector \"a in (\"");
        CHECK(only_error("  - name: a\n    source: {namespace: p, all: true}\n"
                         "    targets: {selector: \"=x\"}\n") ==
              "f.yaml:6:25: rules[0].targets.selector: invalid label selector \"=x\"");
    }
    SUBCASE("bad rule name") {
        CHECK(only_error("  - name: App_Config\n    source: {namespace: p, all: true}\n"
                         "    targets: {namespaces: [w]}\n")
                  .rfind("f.yaml:4:11: rules[0].name: invalid rule name \"App_Config\"", 0) == 0);
    }
    SUBCASE("missing fields") {
        CHECK(only_error("  - name: a\n    targets: {namespaces: [w]}\n") ==
              "f.yaml:4:5: rules[0]: missing field \"source\"");
        CHECK(
            only_error("  - name: a\n    source: {names: [x]}\n    targets: {namespaces: [w]}\n") ==
            "f.yaml:5:13: rules[0].source: missing field \"namespace\"");
    }
    SUBCASE("selection: exactly one") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, names: [x], all: true}\n"
                         "    targets: {namespaces: [w]}\n") ==
              "f.yaml:5:13: rules[0].source: give exactly one of names, selector and all");
        CHECK(only_error(
                  "  - name: a\n    source: {namespace: p}\n    targets: {namespaces: [w]}\n") ==
              "f.yaml:5:13: rules[0].source: give exactly one of names, selector and all");
    }
    SUBCASE("targets: namespaces or a selector") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, all: true}\n"
                         "    targets: {exclude: [w]}\n") ==
              "f.yaml:6:14: rules[0].targets: give namespaces, a selector or both");
    }
    SUBCASE("a rule whose target is its source") {
        CHECK(only_error("  - name: a\n    source: {namespace: p, all: true}\n"
                         "    targets: {namespaces: [w, p]}\n") ==
              "f.yaml:6:31: rules[0].targets.namespaces[1]: target namespace \"p\" is the "
              "source namespace");
    }
    SUBCASE("wrong apiVersion and kind") {
        const auto parsed =
            parse_sync_config("apiVersion: v1\nkind: ConfigMap\nrules:\n" + kRule, "f.yaml");
        REQUIRE(parsed.errors.size() == 2);
        CHECK(parsed.errors[0] == "f.yaml:1:13: apiVersion: expected \"cmsync.io/v1alpha1\"");
        CHECK(parsed.errors[1] == "f.yaml:2:7: kind: expected \"SyncConfig\"");
    }
    SUBCASE("no rules, no document, no YAML") {
        CHECK(parse_sync_config("apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\n", "f.yaml")
                  .errors ==
              std::vector<std::string>{"f.yaml:1:1: rules: expected a list of at least one rule"});
        CHECK(parse_sync_config("# nothing\n", "f.yaml").errors ==
              std::vector<std::string>{"f.yaml:1:1: no SyncConfig in this file"});
        const auto bad = parse_sync_config("rules: [\n", "f.yaml").errors;
        REQUIRE(bad.size() == 1);
        CHECK(bad[0].rfind("f.yaml:2:1: invalid YAML: ", 0) == 0);
    }
    SUBCASE("several errors are all reported") {
        const auto parsed =
            parse_sync_config(kHeader +
                                  "  - name: a\n    source: {namespace: p, all: true}\n"
                                  "    targets: {namespaces: [p]}\n    prune: maybe\n",
                              "f.yaml");
        CHECK(parsed.errors.size() == 2);
    }
}

TEST_CASE("rules file: checks across rules and files") {
    auto a = parse_sync_config(kHeader + kRule, "a.yaml").rules;
    auto b = parse_sync_config(kHeader + kRule, "b.yaml").rules;
    a.insert(a.end(), b.begin(), b.end());
    SUBCASE("duplicate names") {
        CHECK(check_rules(a) == std::vector<std::string>{
                                    "b.yaml:4:5: rule name \"app\" is already used at a.yaml:4:5"});
    }
    SUBCASE("two rules managing one target ConfigMap from different sources") {
        const auto other = parse_sync_config(kHeader + R"y(  - name: other
    source: {namespace: elsewhere, names: [app-config, x]}
    targets: {namespaces: [api]}
)y",
                                             "b.yaml");
        auto rules = parse_sync_config(kHeader + kRule, "a.yaml").rules;
        rules.push_back(other.rules.at(0));
        CHECK(check_rules(rules) ==
              std::vector<std::string>{
                  "b.yaml:4:5: rules \"app\" and \"other\" would both manage ConfigMap "
                  "api/app-config, from platform/app-config and elsewhere/app-config"});
    }
    SUBCASE("a Secret and a ConfigMap of one name are two targets") {
        const auto other = parse_sync_config(kHeader + R"y(  - name: other
    source: {kind: Secret, namespace: elsewhere, names: [app-config]}
    targets: {namespaces: [api]}
)y",
                                             "b.yaml");
        REQUIRE(other.errors.empty());
        CHECK(other.rules.at(0).spec.kind == cmsync::kube::kSecret);
        auto rules = parse_sync_config(kHeader + kRule, "a.yaml").rules;
        CHECK(rules.at(0).spec.kind == cmsync::kube::kConfigMap);
        rules.push_back(other.rules.at(0));
        CHECK(check_rules(rules).empty());
        CHECK(cmsync::rule_fingerprint(rules[0]) != cmsync::rule_fingerprint(rules[1]));
    }
    SUBCASE("the same target excluded by one of them is fine") {
        const auto other = parse_sync_config(kHeader + R"y(  - name: other
    source: {namespace: elsewhere, names: [app-config]}
    targets: {namespaces: [api, db], exclude: [api]}
)y",
                                             "b.yaml");
        auto rules = parse_sync_config(kHeader + kRule, "a.yaml").rules;
        rules.push_back(other.rules.at(0));
        CHECK(check_rules(rules).empty());
    }
}

TEST_CASE("rule checks one at a time: a refused rule leaves nothing behind; a kept one does") {
    const auto rule = [](const std::string& name, const std::string& source,
                         const std::string& targets) {
        auto parsed = parse_sync_config(
            kHeader + "  - name: " + name + "\n    source: {namespace: " + source +
                ", names: [app-config]}\n    targets: " + "{namespaces: [" + targets + "]}\n",
            name + ".yaml");
        REQUIRE(parsed.errors.empty());
        return parsed.rules.at(0);
    };
    const auto a = rule("a", "platform", "web, api");
    const auto b = rule("b", "elsewhere", "api");     // overlaps a in api
    const auto b2 = rule("b", "elsewhere", "db");     // b's name again, no overlap
    const auto c = rule("c", "platform", "api, db");  // a's source: no overlap with a
    SUBCASE("refused, then its name and targets are free") {
        cmsync::RuleChecks checks;
        CHECK(checks.add(a, false).empty());
        CHECK(checks.add(b, false) ==
              std::vector<std::string>{
                  "b.yaml:4:5: rules \"a\" and \"b\" would both manage ConfigMap "
                  "api/app-config, from platform/app-config and elsewhere/app-config"});
        CHECK(checks.add(b2, false).empty());
        // b2 holds db now: c (another source) overlaps it there.
        CHECK(checks.add(c, false).size() == 1);
    }
    SUBCASE("kept: later rules are checked against it, as check_rules does") {
        cmsync::RuleChecks checks;
        CHECK(checks.add(a, true).empty());
        CHECK(checks.add(b, true).size() == 1);
        CHECK(
            checks.add(b2, true) ==
            std::vector<std::string>{"b.yaml:4:5: rule name \"b\" is already used at b.yaml:4:5"});
        CHECK(check_rules({a, b, b2}).size() == 2);
    }
}

TEST_CASE("rules file: a stream yaml-cpp 0.7 never ends is an error (found by fuzzing)") {
    // LoadAll looped on it, adding a null document each turn, until memory ran out.
    const auto parsed = parse_sync_config(test_input("rules_endless_stream.yaml"), "f.yaml");
    CHECK(parsed.rules.empty());
    CHECK(parsed.errors ==
          std::vector<std::string>{"f.yaml: invalid YAML: the document stream has no end"});
}

TEST_CASE("rules file: SyncGrant documents are checked as their CRD's schema says (validate)") {
    using cmsync::RuleObjects;
    const auto read = [](const std::string& spec) {
        return parse_sync_config(
            "apiVersion: cmsync.io/v1alpha1\nkind: SyncGrant\nmetadata:\n"
            "  name: from-platform\n  namespace: web\nspec:\n" +
                spec,
            "g.yaml", RuleObjects::accept);
    };
    SUBCASE("valid: said, no rule") {
        const auto parsed = read(
            "  from:\n    - namespace: platform\n      kinds: [ConfigMap, Secret]\n"
            "      names: [app-config]\n    - namespace: team-a\n");
        CHECK(parsed.errors.empty());
        CHECK(parsed.rules.empty());
        CHECK(parsed.grants == std::vector<std::string>{"g.yaml:1:1: SyncGrant web/from-platform"});
    }
    SUBCASE("each mistake, at its line") {
        const auto errors = [&](const std::string& spec) { return read(spec).errors; };
        CHECK(errors("  from: []\n") ==
              std::vector<std::string>{"g.yaml:7:9: spec.from: expected a list of at least one "
                                       "namespace whose rules may write here"});
        CHECK(errors("  to: x\n").size() == 2);  // unknown field, and no from
        CHECK(errors("  from:\n    - namespaces: platform\n") ==
              std::vector<std::string>{
                  "g.yaml:8:7: spec.from[0]: unknown field \"namespaces\" (known: kinds, names, "
                  "namespace)",
                  "g.yaml:8:7: spec.from[0]: missing field \"namespace\""});
        CHECK(errors("  from:\n    - namespace: Platform\n").size() == 1);
        CHECK(errors("  from:\n    - namespace: p\n      kinds: [Deployment]\n") ==
              std::vector<std::string>{"g.yaml:9:15: spec.from[0].kinds[0]: kind \"Deployment\": "
                                       "must be ConfigMap or Secret"});
        CHECK(errors("  from:\n    - namespace: p\n      kinds: []\n").size() == 1);
        CHECK(errors("  from:\n    - namespace: p\n      names: [\"Not_A_Name\"]\n").size() == 1);
        CHECK(read("  from:\n    - namespace: p\n      names: [x]\n").grants.size() == 1);
    }
    SUBCASE("refused where rules files run") {
        CHECK(parse_sync_config("apiVersion: cmsync.io/v1alpha1\nkind: SyncGrant\nmetadata:\n"
                                "  name: g\nspec:\n  from:\n    - namespace: p\n",
                                "g.yaml")
                  .errors.size() == 1);
    }
}

TEST_CASE("rules file: rule objects are read for validate, refused where rules files run") {
    using cmsync::RuleObjects;
    const std::string objects = R"y(apiVersion: cmsync.io/v1alpha1
kind: SyncRule
metadata:
  name: share-app
  namespace: team-a
spec:
  source:
    names: [app-config]
  targets:
    namespaces: [team-b]
---
apiVersion: cmsync.io/v1alpha1
kind: ClusterSyncRule
metadata:
  name: ca
spec:
  source:
    namespace: certs
    names: [ca]
  targets:
    selector: "team=yes"
)y";
    SUBCASE("accepted: a SyncRule's source is in its namespace, named as the controller does") {
        const auto parsed = parse_sync_config(objects, "o.yaml", RuleObjects::accept);
        REQUIRE(parsed.errors.empty());
        REQUIRE(parsed.rules.size() == 2);
        CHECK(parsed.rules[0].name == "team-a/share-app");
        CHECK(parsed.rules[0].spec.source_namespace == "team-a");
        CHECK(parsed.rules[0].where == "o.yaml:1:1");
        CHECK(parsed.rules[1].name == "ca");
        CHECK(parsed.rules[1].spec.source_namespace == "certs");
    }
    SUBCASE("refused by default") {
        const auto parsed = parse_sync_config(objects, "o.yaml");
        CHECK(parsed.rules.empty());
        REQUIRE(parsed.errors.size() == 2);
        CHECK(parsed.errors[0] ==
              "o.yaml:2:7: kind: a SyncRule is applied with kubectl and run by `watch "
              "--rules-from-cluster`; a rules file holds a SyncConfig");
    }
    SUBCASE("the validator's words, at the spec's own lines") {
        const auto errors_of = [](const std::string& text) {
            return parse_sync_config(text, "o.yaml", RuleObjects::accept).errors;
        };
        const std::string head =
            "apiVersion: cmsync.io/v1alpha1\nkind: SyncRule\nmetadata:\n  name: r\n  "
            "namespace: a\nspec:\n";
        CHECK(errors_of(head + "  source:\n    namespace: b\n    names: [x]\n  targets:\n    "
                               "namespaces: [c]\n") ==
              std::vector<std::string>{"o.yaml:8:16: spec.source.namespace: a SyncRule's source "
                                       "is in its own namespace"});
        CHECK(errors_of(head + "  source:\n    names: [x]\n  targets:\n    namespaces: [a]\n") ==
              std::vector<std::string>{"o.yaml:10:18: spec.targets.namespaces[0]: target "
                                       "namespace \"a\" is the source namespace"});
        CHECK(errors_of(head + "  name: other\n  source:\n    names: [x]\n").size() == 1);
        CHECK(errors_of("apiVersion: v1\nkind: ClusterSyncRule\nmetadata:\n  name: r\nspec:\n  "
                        "source:\n    namespace: a\n    names: [x]\n  targets:\n    "
                        "namespaces: [b]\n") ==
              std::vector<std::string>{"o.yaml:1:13: apiVersion: expected \"cmsync.io/v1alpha1\""});
        CHECK(errors_of("apiVersion: cmsync.io/v1alpha1\nkind: ClusterSyncRule\nmetadata: {}\n")
                  .size() == 1);
    }
}
