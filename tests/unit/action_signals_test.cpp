#include <doctest/doctest.h>

#include "controller/action_signals.hpp"
#include "watch_action_fixture.hpp"

namespace cmsync::controller {

namespace {

using testing::action;

using Writes = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("action signals: metrics and Events of each watch action") {
    SUBCASE("a create: one successful write, no Event") {
        const auto s =
            signals_of(action(WatchActionKind::created, OutOfStep::none, WriteVerb::create), "");
        CHECK(s.writes == Writes{{"create", "success"}});
        CHECK_FALSE(s.event);
    }
    SUBCASE("an update after two 409s: two conflicts, then the success") {
        auto a = action(WatchActionKind::updated);
        a.conflicts_retried = 2;
        CHECK(signals_of(a, "").writes ==
              Writes{{"update", "conflict"}, {"update", "conflict"}, {"update", "success"}});
    }
    SUBCASE("a delete (--prune)") {
        CHECK(signals_of(action(WatchActionKind::deleted, OutOfStep::none, WriteVerb::remove), "")
                  .writes == Writes{{"delete", "success"}});
    }
    SUBCASE("drift: a Warning on the copy, with its uid, keys and rule") {
        auto a = action(WatchActionKind::drift, OutOfStep::drift);
        a.keys = {"config.yaml"};
        a.detail = "managed keys in conflict (use --force to overwrite)";
        const auto s = signals_of(a, "shared");
        CHECK(s.drift);
        CHECK(s.writes.empty());
        REQUIRE(s.event);
        CHECK(s.event->regarding.namespace_name == "team-a");
        CHECK(s.event->regarding.name == "app");
        CHECK(s.event->regarding.uid == "uid-1");
        CHECK(s.event->type == EventType::warning);
        CHECK(s.event->reason == "Drift");
        CHECK(s.event->action == "Sync");
        CHECK(s.event->note ==
              "managed keys (config.yaml) edited here differ from the source (rule shared): kept, "
              "not overwritten: managed keys in conflict (use --force to overwrite)");
    }
    SUBCASE("a conflict (not ours)") {
        auto a = action(WatchActionKind::drift, OutOfStep::conflict);
        a.detail = "owned by ns-x/app";
        const auto s = signals_of(a, "");
        CHECK(s.conflict);
        CHECK_FALSE(s.drift);
        REQUIRE(s.event);
        CHECK(s.event->note == "not in step with its source: owned by ns-x/app");
    }
    SUBCASE("an orphan: a Normal Event") {
        auto a = action(WatchActionKind::orphaned, OutOfStep::orphaned);
        a.detail = "orphaned: source src/app is gone (--prune removes its keys)";
        const auto s = signals_of(a, "");
        CHECK(s.orphan);
        REQUIRE(s.event);
        CHECK(s.event->type == EventType::normal);
        CHECK(s.event->reason == "Orphaned");
    }
    SUBCASE("a failed write: an error count and a Warning") {
        auto a = action(WatchActionKind::error, OutOfStep::write_failed, WriteVerb::create);
        a.detail = "forbidden";
        const auto s = signals_of(a, "");
        CHECK(s.writes == Writes{{"create", "error"}});
        REQUIRE(s.event);
        CHECK(s.event->note == "kubectl-cmsync could not create this copy: forbidden");
    }
}

}  // namespace cmsync::controller
