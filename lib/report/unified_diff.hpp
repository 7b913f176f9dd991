#pragma once

#include <string>

namespace cmsync {

/// A unified diff of two texts by lines ("---"/"+++" headers, "@@" hunks with `context` lines
/// around each change); an empty string when the texts are equal.
std::string unified_diff(const std::string& old_text, const std::string& new_text,
                         const std::string& old_label, const std::string& new_label,
                         int context = 3);

}  // namespace cmsync
