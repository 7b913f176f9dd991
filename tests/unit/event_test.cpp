// Events as the events.k8s.io/v1 API takes them, and how occurrences are correlated.
#include "controller/event.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "controller/event_correlator.hpp"
#include "kube/json.hpp"

using namespace cmsync::controller;
using namespace std::chrono_literals;

namespace {

rapidjson::Document parsed(const std::string& text) {
    rapidjson::Document doc;
    REQUIRE(cmsync::kube::parse_json_object(text, doc).empty());
    return doc;
}

// 2026-11-29T08:40:00Z
const EventTime kT0 = EventTime{} + 1795941600s;

EventOccurrence conflict(const std::string& name = "app", const std::string& note = "owned") {
    return EventOccurrence{
        {"team-a", name, "uid-1", "42"}, EventType::warning, "Conflict", "Sync", note};
}

}  // namespace

TEST_CASE("format_micro_time: RFC 3339 in UTC with microseconds") {
    const struct {
        EventTime time;
        const char* text;
    } rows[] = {{kT0, "2026-11-29T08:40:00.000000Z"},
                {kT0 + 123456us, "2026-11-29T08:40:00.123456Z"},
                {kT0 + 999999999ns, "2026-11-29T08:40:00.999999Z"},
                {EventTime{}, "1970-01-01T00:00:00.000000Z"}};
    for (const auto& row : rows) {
        SUBCASE(row.text) {
            CHECK(format_micro_time(row.time) == row.text);
        }
    }
}

TEST_CASE("truncate_utf8 cuts at a character boundary and marks the cut") {
    const struct {
        const char* in;
        std::size_t max;
        const char* out;
    } rows[] = {{"short", 10, "short"},
                {"exactly10!", 10, "exactly10!"},
                {"0123456789ab", 10, "0123456..."},
                {"abcdef\xc3\xa9xyz", 9, "abcdef..."},  // é (2 bytes) at bytes 6-7
                {"abcde\xc3\xa9xyz", 9, "abcde..."}};
    for (const auto& row : rows) {
        SUBCASE(row.out) {
            const auto out = truncate_utf8(row.in, row.max);
            CHECK(out == row.out);
            CHECK(out.size() <= row.max);
        }
    }
}

TEST_CASE("event_name stays a DNS subdomain of at most 253 characters") {
    CHECK(event_name("app", "0123456789abcdef") == "app.0123456789abcdef");
    const auto long_name = std::string(240, 'a');
    CHECK(event_name(long_name, "0123456789abcdef").size() == 253);
    auto dotted = std::string(235, 'a') + ".-b";  // the cut falls after ".-"
    CHECK(event_name(dotted, "0123456789abcdef") == std::string(235, 'a') + ".0123456789abcdef");
}

TEST_CASE("event_json: every field the API requires, series only from a count of 2") {
    EventObject event{"app.0123456789abcdef", conflict(), "cmsync-7d9f-x", kT0 + 123456us, 1, kT0};
    auto expected = parsed(R"({
      "apiVersion": "events.k8s.io/v1", "kind": "Event",
      "metadata": {"name": "app.0123456789abcdef", "namespace": "team-a"},
      "eventTime": "2026-11-29T08:40:00.123456Z",
      "reportingController": "cmsync.io/kubectl-cmsync",
      "reportingInstance": "cmsync-7d9f-x",
      "action": "Sync", "reason": "Conflict",
      "regarding": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "team-a",
                    "name": "app", "uid": "uid-1", "resourceVersion": "42"},
      "note": "owned", "type": "Warning"})");
    SUBCASE("single") {
        CHECK(parsed(event_json(event)) == expected);
    }
    SUBCASE("series") {
        event.count = 3;
        event.last_observed = kT0 + 20s;
        rapidjson::Value series(rapidjson::kObjectType);
        series.AddMember("count", 3, expected.GetAllocator());
        series.AddMember("lastObservedTime", "2026-11-29T08:40:20.000000Z",
                         expected.GetAllocator());
        expected.AddMember("series", series, expected.GetAllocator());
        CHECK(parsed(event_json(event)) == expected);
    }
    SUBCASE("a long note is cut to 1024 bytes") {
        event.occurrence.note = std::string(5000, 'x');
        const auto doc = parsed(event_json(event));
        CHECK(doc["note"].GetStringLength() == 1024);
    }
}

TEST_CASE("series_patch_json") {
    CHECK(parsed(series_patch_json(2, kT0)) ==
          parsed(R"({"series":{"count":2,"lastObservedTime":"2026-11-29T08:40:00.000000Z"}})"));
}

namespace {

struct Correlator {
    int names = 0;
    EventCorrelator c{CorrelatorLimits{}, "me", [this] { return std::to_string(++names); }};
};

using Kind = EventDecision::Kind;

}  // namespace

TEST_CASE("correlator: one Event per series, at most one write per 10 s") {
    Correlator f;
    const struct {
        std::chrono::seconds at;
        Kind kind;
        int count;
        const char* what;
    } rows[] = {
        {0s, Kind::create, 1, "first occurrence: a new Event"},
        {1s, Kind::later, 0, "1 s later: counted, written later"},
        {2s, Kind::later, 0, "again: counted"},
        {12s, Kind::patch, 4, "10 s after the create: a patch with the count"},
        {13s, Kind::later, 0, "soon after the patch: later"},
        {400s, Kind::create, 1, "past the 6-minute window: a new Event"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.what);
        const auto d = f.c.observe(conflict(), kT0 + row.at);
        CHECK(d.kind == row.kind);
        if (row.kind == Kind::patch || row.kind == Kind::create) {
            CHECK(d.event.count == row.count);
            CHECK(d.event.last_observed == kT0 + row.at);
            CHECK(d.event.name == (row.at < 400s ? "app.1" : "app.2"));
            CHECK(d.event.event_time == (row.at < 400s ? kT0 : kT0 + 400s));
            CHECK(d.event.reporting_instance == "me");
        }
    }
}

TEST_CASE("correlator: flush writes waiting counts once their interval has passed") {
    Correlator f;
    f.c.observe(conflict(), kT0);
    f.c.observe(conflict(), kT0 + 1s);
    f.c.observe(conflict(), kT0 + 2s);
    CHECK(f.c.flush(kT0 + 5s).empty());
    const auto due = f.c.flush(kT0 + 10s);
    REQUIRE(due.size() == 1);
    CHECK(due[0].count == 3);
    CHECK(due[0].last_observed == kT0 + 2s);
    CHECK(f.c.flush(kT0 + 30s).empty());  // nothing new
    SUBCASE("all: at stop, whatever the interval") {
        f.c.observe(conflict(), kT0 + 31s);
        CHECK(f.c.observe(conflict(), kT0 + 32s).kind == Kind::later);
        const auto all = f.c.flush(kT0 + 33s, true);
        REQUIRE(all.size() == 1);
        CHECK(all[0].count == 5);
    }
    SUBCASE("an ended series is forgotten") {
        CHECK(f.c.size() == 1);
        f.c.flush(kT0 + 2s + 361s);
        CHECK(f.c.size() == 0);
    }
}

TEST_CASE("correlator: what makes occurrences isomorphic") {
    const struct {
        const char* what;
        EventOccurrence other;
        Kind kind;
    } rows[] = {
        {"same", conflict(), Kind::later},
        {"another note", conflict("app", "other"), Kind::create},
        {"another object", conflict("web"), Kind::create},
        {"another reason",
         EventOccurrence{
             {"team-a", "app", "uid-1", "42"}, EventType::warning, "Drift", "Sync", "owned"},
         Kind::create},
        {"another type",
         EventOccurrence{
             {"team-a", "app", "uid-1", "42"}, EventType::normal, "Conflict", "Sync", "owned"},
         Kind::create},
    };
    for (const auto& row : rows) {
        SUBCASE(row.what) {
            Correlator f;
            f.c.observe(conflict(), kT0);
            CHECK(f.c.observe(row.other, kT0 + 1s).kind == row.kind);
        }
    }
}

TEST_CASE("correlator: 25 new Events per object, then one per 5 minutes") {
    Correlator f;
    for (int i = 0; i < 25; ++i) {
        CHECK(f.c.observe(conflict("app", std::to_string(i)), kT0).kind == Kind::create);
    }
    CHECK(f.c.observe(conflict("app", "26th"), kT0).kind == Kind::drop);
    CHECK(f.c.observe(conflict("web", "another object"), kT0).kind == Kind::create);
    CHECK(f.c.observe(conflict("app", "27th"), kT0 + 299s).kind == Kind::drop);
    CHECK(f.c.observe(conflict("app", "28th"), kT0 + 301s).kind == Kind::create);
    CHECK(f.c.observe(conflict("app", "29th"), kT0 + 302s).kind == Kind::drop);
    // A series of one of the first 25 still counts: repeats are not new Events.
    CHECK(f.c.observe(conflict("app", "0"), kT0 + 303s).kind == Kind::patch);
}

TEST_CASE("correlator: the least recently used series go first past the bound") {
    CorrelatorLimits limits;
    limits.max_entries = 2;
    int n = 0;
    EventCorrelator c(limits, "me", [&] { return std::to_string(++n); });
    c.observe(conflict("a"), kT0);
    c.observe(conflict("b"), kT0);
    c.observe(conflict("a"), kT0 + 1s);  // a is now the most recent
    c.observe(conflict("c"), kT0 + 2s);  // b goes
    CHECK(c.size() == 2);
    CHECK(c.observe(conflict("a"), kT0 + 3s).kind == Kind::later);
    CHECK(c.observe(conflict("b"), kT0 + 4s).kind == Kind::create);
}
