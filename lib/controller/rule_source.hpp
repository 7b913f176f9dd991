#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rules/sync_config.hpp"

namespace cmsync::controller {

/// What a rule source holds now, when it changed: its rules, or why they cannot be used (one
/// line each, "FILE:LINE:COLUMN: ..."), in which case the running rules stay.
struct RuleUpdate {
    std::vector<Rule> rules;
    std::vector<std::string> errors;
};

/// Where `watch` gets its rules while it runs: asked now and then, it answers what changed
/// since it was last asked, or nothing. The rules files today; rule objects next.
using RuleSource = std::function<std::optional<RuleUpdate>()>;

struct FollowOptions {
    std::chrono::milliseconds interval{1000};              ///< between two questions to the source
    std::chrono::milliseconds tick{100};                   ///< how soon a halt is noticed
    std::function<void(std::chrono::milliseconds)> sleep;  ///< defaults to sleep_for
    std::function<void(const std::string&)> log;
    std::string name = "rules file";  ///< what the source is, in the log
};

/// Follows `source` until `halt()` says stop: each changed set of valid rules goes to
/// `apply` (logged with its count); an invalid one is logged line by line and the running
/// rules stay. `source` may be empty (rules from stdin cannot be read again): then it only
/// waits for the halt.
void follow_rules(const RuleSource& source,
                  const std::function<void(const std::vector<Rule>&)>& apply,
                  const std::function<bool()>& halt, const FollowOptions& options);

}  // namespace cmsync::controller
