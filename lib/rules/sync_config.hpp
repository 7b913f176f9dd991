#pragma once

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "kube/object.hpp"
#include "plan/sync_spec.hpp"

namespace cmsync {

/// One rule of a rules file (`-f`): what one positional command says, with a name.
struct Rule {
    std::string name;  ///< unique; in logs, reports and metrics
    SyncSpec spec;
    std::string where;  ///< "FILE:LINE:COLUMN" of the rule, for messages
};

/// The rules of one file and every problem found in it, one line each, "FILE:LINE:COLUMN: ...".
struct ParsedRules {
    std::vector<Rule> rules;
    std::vector<std::string> errors;
    /// The valid SyncGrant documents (validate): "FILE:LINE:COLUMN: SyncGrant NS/NAME".
    std::vector<std::string> grants;
};

/// The apiVersion and kind a rules file must declare.
inline constexpr const char* kSyncConfigApiVersion = "cmsync.io/v1alpha1";
inline constexpr const char* kSyncConfigKind = "SyncConfig";

/// Whether ClusterSyncRule and SyncRule documents (rules as objects, deploy/crds/) are read
/// as rules (`validate`) or refused (a rules file run by sync, diff, watch -f).
enum class RuleObjects { refuse, accept };

/// Parses the SyncConfig documents of `text` (`file` names it in errors) and checks each rule
/// on its own: unknown fields, wrong types, names, selectors, keys, a target that is its
/// source. Rule objects as `objects` says: a SyncRule "NAME" in namespace NS is rule "NS/NAME"
/// with its source there. Pure: no I/O.
ParsedRules parse_sync_config(const std::string& text, const std::string& file,
                              RuleObjects objects = RuleObjects::refuse);

/// Everything a rule says, as one string: equal exactly when two rules do the same (`watch
/// -f` restarts a rule only when this changes).
std::string rule_fingerprint(const Rule& rule);

/// Checks across all rules (of every file): unique names, one context per cluster name and
/// the other way round, and no target ConfigMap (NS/NAME) managed by two rules from different
/// sources. One line per problem, naming both rules.
std::vector<std::string> check_rules(const std::vector<Rule>& rules);

/// check_rules, one rule at a time: each rule is checked against the rules added before it, at
/// the cost of its own names and targets (a thousand rule objects are checked in one go, not
/// a thousand). The rules added must outlive it.
class RuleChecks {
  public:
    RuleChecks();
    ~RuleChecks();
    RuleChecks(const RuleChecks&) = delete;
    RuleChecks& operator=(const RuleChecks&) = delete;
    /// The problems `rule` has with the rules added so far (each line as check_rules says it).
    /// A rule with problems is kept (later rules are checked against it too) only when
    /// `keep_when_wrong`.
    std::vector<std::string> add(const Rule& rule, bool keep_when_wrong);

  private:
    using Pairs = std::map<std::string, std::pair<std::string, const Rule*>>;
    using Target = std::tuple<std::string_view, std::string, kube::ObjectRef>;
    std::map<std::string, const Rule*> by_name_;
    Pairs contexts_;  ///< `cluster "N"` -> `context "C"` or `Secret "S"` (ClusterRef::source)
    Pairs names_;     ///< the other way round
    std::map<Target, const Rule*> managed_;
};

}  // namespace cmsync
