#pragma once

#include "watch/watch_action.hpp"

namespace cmsync::testing {

/// A watch action on team-a/app (uid-1), as the watcher reports one.
inline WatchAction action(WatchActionKind what, OutOfStep reason = OutOfStep::none,
                          WriteVerb verb = WriteVerb::update) {
    WatchAction a;
    a.target = {"team-a", "app"};
    a.action = what;
    a.reason = reason;
    a.verb = verb;
    a.uid = "uid-1";
    return a;
}

}  // namespace cmsync::testing
