#include "watch/takeover.hpp"

#include <doctest/doctest.h>

namespace cmsync {

TEST_CASE("takeover: a standby repairs what it skipped once it leads and its first lists are in") {
    Takeover t;
    SUBCASE("nothing skipped (it led before its first lists were handled): no repair") {
        CHECK_FALSE(t.take_repair(true, false));
        CHECK_FALSE(t.take_repair(true, true));
        CHECK_FALSE(t.owed());
    }
    SUBCASE("skipped as a standby: nothing while it stands by") {
        t.skipped();
        CHECK_FALSE(t.take_repair(false, true));
        CHECK(t.owed());
    }
    SUBCASE("leading while first lists are on their way: the repair waits for them") {
        // A list read before the repair's writes but handled after them would create the same
        // copies again (issue 26 item 8).
        t.skipped();
        CHECK_FALSE(t.take_repair(true, false));
        CHECK(t.owed());
        CHECK(t.take_repair(true, true));
        CHECK_FALSE(t.owed());
    }
    SUBCASE("once per debt") {
        t.skipped();
        CHECK(t.take_repair(true, true));
        CHECK_FALSE(t.take_repair(true, true));
        t.skipped();  // skipped again: the repair itself stopped leading midway
        CHECK(t.take_repair(true, true));
    }
}

}  // namespace cmsync
