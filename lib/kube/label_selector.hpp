#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cmsync {

/// A parsed label selector (kubectl syntax): `k=v`, `k==v`, `k!=v`, `k`, `!k`,
/// `k in (a,b)`, `k notin (a,b)`, joined by commas (AND). Used where the server cannot filter
/// (a cluster-scope watch filtered client-side).
class LabelSelector {
  public:
    /// Parses `text`; nothing when it is malformed. An empty text matches everything.
    static std::optional<LabelSelector> parse(const std::string& text);
    /// Whether `labels` satisfy every requirement.
    bool matches(const std::map<std::string, std::string>& labels) const;

  private:
    enum class Op { equals, not_equals, exists, not_exists, in, not_in };
    struct Requirement {
        std::string key;
        Op op;
        std::vector<std::string> values;
    };
    std::vector<Requirement> requirements_;
};

}  // namespace cmsync
