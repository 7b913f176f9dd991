#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "plan/outcome.hpp"
#include "plan/resync_outcome.hpp"
#include "watch/watch_action.hpp"

namespace cmsync {

// The words of reports, logs, metrics and Events: one table each, in the enums' order.
TEST_CASE("outcome enums and their words") {
    SUBCASE("sync results, and what resync makes of them") {
        const std::vector<std::tuple<SyncResult, std::string, ResyncKind, bool>> rows = {
            {SyncResult::created, "created", ResyncKind::updated, true},
            {SyncResult::updated, "updated", ResyncKind::updated, true},
            {SyncResult::recreated, "recreated", ResyncKind::updated, true},
            {SyncResult::deleted, "deleted", ResyncKind::updated, true},
            {SyncResult::unchanged, "unchanged", ResyncKind::in_step, false},
            {SyncResult::conflict, "conflict", ResyncKind::conflict, false},
            {SyncResult::error, "error", ResyncKind::error, false},
        };
        for (const auto& [result, word, kind, written] : rows) {
            CAPTURE(word);
            CHECK(to_string(result) == word);
            CHECK(resync_kind(result) == kind);
            CHECK(wrote(result) == written);
        }
    }
    SUBCASE("resync kinds") {
        CHECK(std::string(to_string(ResyncKind::in_step)) == "in-step");
        CHECK(std::string(to_string(ResyncKind::updated)) == "updated");
        CHECK(std::string(to_string(ResyncKind::conflict)) == "conflict");
        CHECK(std::string(to_string(ResyncKind::orphaned)) == "orphaned");
        CHECK(std::string(to_string(ResyncKind::error)) == "error");
    }
    SUBCASE("watch actions, verbs and Event reasons") {
        const std::vector<std::pair<WatchActionKind, std::string>> actions = {
            {WatchActionKind::created, "created"},     {WatchActionKind::updated, "updated"},
            {WatchActionKind::recreated, "recreated"}, {WatchActionKind::deleted, "deleted"},
            {WatchActionKind::drift, "drift"},         {WatchActionKind::orphaned, "orphaned"},
            {WatchActionKind::error, "error"}};
        for (const auto& [kind, word] : actions) {
            CHECK(to_string(kind) == word);
        }
        CHECK(std::string(to_string(WriteVerb::create)) == "create");
        CHECK(std::string(to_string(WriteVerb::update)) == "update");
        CHECK(std::string(to_string(WriteVerb::remove)) == "delete");
        CHECK(std::string(to_string(OutOfStep::none)).empty());
        CHECK(std::string(to_string(OutOfStep::drift)) == "Drift");
        CHECK(std::string(to_string(OutOfStep::conflict)) == "Conflict");
        CHECK(std::string(to_string(OutOfStep::orphaned)) == "Orphaned");
        CHECK(std::string(to_string(OutOfStep::write_failed)) == "WriteFailed");
    }
    SUBCASE("an outcome's result: error first, then what its plan did") {
        TargetOutcome o;
        o.plan.action = TargetAction::update;
        CHECK(sync_result(o) == SyncResult::updated);
        o.plan.recreate = true;
        CHECK(sync_result(o) == SyncResult::recreated);
        o.plan.delete_copy = true;
        CHECK(sync_result(o) == SyncResult::deleted);
        o.error = "forbidden";
        CHECK(sync_result(o) == SyncResult::error);
    }
}

}  // namespace cmsync
