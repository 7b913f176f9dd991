// RuleWatchers: a watcher per rule; what a failing rule does (retry or stop), and how the
// unnamed (positional) rule is labelled.
#include "controller/rule_watchers.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "api_fixture.hpp"
#include "controller/watcher_status.hpp"
#include "eventually.hpp"
#include "fake_api.hpp"
#include "proc_status.hpp"

namespace cmsync {

namespace {

Rule rule_of(const std::string& name) {
    Rule r;
    r.name = name;
    r.spec.source_namespace = "src";
    r.spec.selection.names = {"app"};
    r.spec.target_namespaces = {"t"};
    return r;
}

struct Lines {
    std::mutex mutex;
    std::vector<std::string> lines;
    RuleWatchers::LogSink sink() {
        return [this](const std::string& line) {
            std::lock_guard guard(mutex);
            lines.push_back(line);
        };
    }
    bool has(const std::string& text) {
        std::lock_guard guard(mutex);
        return std::any_of(lines.begin(), lines.end(),
                           [&](const std::string& l) { return l.find(text) != std::string::npos; });
    }
};

/// Rules of source src/app, which cannot be read: each fails at its start and waits to try
/// again (rules file) on watchers of their own.
struct ForbiddenSource {
    ForbiddenSource() {
        f.server.add_namespace("t", {});
        f.server.fail("GET", "/api/v1/namespaces/src/configmaps/app",
                      status(403, "Forbidden", "configmaps \"app\" is forbidden"));
    }
    ApiFixture<FakeApi> f;
    Lines log;
    RuleWatchers watchers{f.api,
                          {},
                          [](const std::string&, const WatchAction&) {},
                          log.sink(),
                          RuleWatchers::OnFailure::retry};
};

}  // namespace

TEST_CASE("a rule whose source cannot be read: retried, or the run stops with its error") {
    ApiFixture<FakeApi> f;
    f.server.fail("GET", "/api/v1/namespaces/src/configmaps/app",
                  status(403, "Forbidden", "configmaps \"app\" is forbidden"));
    Lines log;
    const auto no_action = [](const std::string&, const WatchAction&) {};
    SUBCASE("a rules file's rule tries again; the run goes on") {
        RuleWatchers watchers(f.api, {}, no_action, log.sink(), RuleWatchers::OnFailure::retry);
        watchers.apply({rule_of("one")});
        CHECK(eventually([&] { return log.has("rule one: cannot watch:"); }));
        CHECK(log.has("again in 30 s (the other rules go on)"));
        CHECK_FALSE(watchers.failure());
        bool failed = false;
        watchers.visit([&](const RuleWatchers::UnitState& unit) {
            CHECK(unit.rule == "one");
            CHECK(unit.cluster == "");
            CHECK(unit.watcher == nullptr);
            CHECK(unit.unreachable == "");  // forbidden is an answer
            failed = unit.failed;
        });
        CHECK(failed);
        watchers.stop_all();
    }
    SUBCASE("the positional form's rule stops the run with what it threw") {
        RuleWatchers watchers(f.api, {}, no_action, log.sink(), RuleWatchers::OnFailure::stop);
        watchers.apply({rule_of("")});
        REQUIRE(eventually([&] { return watchers.failure() != nullptr; }));
        CHECK_THROWS_WITH_AS(std::rethrow_exception(watchers.failure()),
                             doctest::Contains("forbidden"), std::exception);
        CHECK_FALSE(log.has("again in"));
        CHECK_FALSE(log.has("starting"));  // the unnamed rule is not announced as a rule
        watchers.stop_all();
    }
}

TEST_CASE("the unnamed rule is labelled by its source namespace") {
    ForbiddenSource rules;
    auto& watchers = rules.watchers;
    watchers.apply({rule_of(""), rule_of("named")});
    const auto statuses = controller::statuses_of(watchers);
    std::vector<std::string> labels;
    for (const auto& s : statuses) {
        labels.push_back(s.rule);
    }
    std::sort(labels.begin(), labels.end());
    CHECK(labels == std::vector<std::string>{"named", "src"});
    CHECK(watchers.running() == std::vector<std::string>{"", "named"});
    watchers.stop_all();
}

}  // namespace cmsync

namespace cmsync {

TEST_CASE("rule watchers: a hundred rules run on a few driver threads; removed ones stop") {
    // Rules that wait to try again are the cheapest to hold: the threads counted are the
    // drivers'.
    ForbiddenSource forbidden;
    auto& watchers = forbidden.watchers;
    auto& log = forbidden.log;
    const long before = proc_status("Threads");
    std::vector<Rule> rules;
    for (int i = 0; i < 100; ++i) {
        rules.push_back(rule_of("r" + std::to_string(i)));
        rules.back().spec.target_namespaces = {"t" + std::to_string(i)};  // each its own
    }
    watchers.apply(rules);
    CHECK(eventually([&] { return log.has("rule r99: cannot watch:"); }));
    CHECK(proc_status("Threads") - before <= 8 + 1);  // the drivers (and the transport's at most)
    CHECK(watchers.running().size() == 100);
    rules.resize(10);
    watchers.apply(rules);  // returns once the 90 removed have stopped
    CHECK(watchers.running().size() == 10);
    CHECK(log.has("rule r50: removed or changed: stopped"));
    watchers.stop_all();
    CHECK(watchers.running().empty());
}

}  // namespace cmsync
