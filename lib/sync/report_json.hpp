#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "sync/merge.hpp"

namespace cmsync {

/// {key, change, reason?, forced?}: one key of a plan, as diff and sync print it.
rapidjson::Value key_plan_json(const KeyPlan& key, rapidjson::Document::AllocatorType& alloc);

/// Adds "warnings": [...] to `object` when there are any.
void add_warnings_json(rapidjson::Value& object, const std::vector<std::string>& warnings,
                       rapidjson::Document::AllocatorType& alloc);

}  // namespace cmsync
