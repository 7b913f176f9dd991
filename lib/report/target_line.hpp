#pragma once

#include <string>
#include <vector>

#include "plan/outcome.hpp"

namespace cmsync {

/// One target's head line in text output: "LABEL: WORD (KEY CHANGES): why", the key changes
/// that `wanted` picks shown when `show_keys`; control characters escaped.
std::string target_line(const TargetOutcome& outcome, const char* word,
                        bool (*wanted)(KeyAction action), bool show_keys);

}  // namespace cmsync
