#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "plan/outcome.hpp"

namespace cmsync {

/// {key, change, reason?, forced?}: one key of a plan, as diff and sync print it.
rapidjson::Value key_plan_json(const KeyPlan& key, rapidjson::Document::AllocatorType& alloc);

/// {source, namespace, name}: which target an entry of a diff or sync report is about.
rapidjson::Value target_json(const TargetOutcome& outcome,
                             rapidjson::Document::AllocatorType& alloc);

/// Adds "warnings": [...] to `object` when there are any.
void add_warnings_json(rapidjson::Value& object, const std::vector<std::string>& warnings,
                       rapidjson::Document::AllocatorType& alloc);

}  // namespace cmsync

namespace cmsync {

/// One rule's part of a rules-file run (`-f`), for `-o json`.
struct RuleReport {
    std::string name;
    std::string error;  ///< the rule could not run (e.g. its source namespace is forbidden)
    std::string json;   ///< the rule's document as `-o json` prints one command's (if it ran)
};

/// {"rules": [{"name", "error", ...the members of the rule's document}]}.
std::string render_rules_json(const std::vector<RuleReport>& rules);

}  // namespace cmsync
