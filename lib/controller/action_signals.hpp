#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controller/event.hpp"
#include "watch/watcher.hpp"

namespace cmsync::controller {

/// What one action of the watch loop means for metrics and Events.
struct ActionSignals {
    std::vector<std::pair<std::string, std::string>> writes;  ///< (verb, result) per attempt
    bool drift = false;
    bool conflict = false;
    bool orphan = false;
    /// An Event on the copy: conflicts, drift, orphans and failed writes (not successes).
    std::optional<EventOccurrence> event;
};

/// Pure: `rule` is the rule name ("" for the one watch of the command line).
ActionSignals signals_of(const WatchAction& action, const std::string& rule);

}  // namespace cmsync::controller
