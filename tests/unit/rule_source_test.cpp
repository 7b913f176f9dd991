#include "controller/rule_source.hpp"

#include <doctest/doctest.h>

#include <deque>

namespace cmsync::controller {

namespace {

Rule rule(const std::string& name) {
    Rule r;
    r.name = name;
    return r;
}

// A source that answers from a script, one answer per question, then "unchanged".
struct Script {
    std::deque<std::optional<RuleUpdate>> answers;
    int asked = 0;
    RuleSource source() {
        return [this]() -> std::optional<RuleUpdate> {
            ++asked;
            if (answers.empty()) {
                return std::nullopt;
            }
            auto next = answers.front();
            answers.pop_front();
            return next;
        };
    }
};

}  // namespace

TEST_CASE("follow_rules: changed rules are applied, invalid ones logged and the old ones kept") {
    Script script;
    std::vector<std::vector<std::string>> applied;
    std::vector<std::string> logs;
    int slept_ms = 0;
    FollowOptions options;
    options.interval = std::chrono::milliseconds(1000);
    options.tick = std::chrono::milliseconds(100);
    options.sleep = [&](std::chrono::milliseconds d) { slept_ms += static_cast<int>(d.count()); };
    options.log = [&](const std::string& line) { logs.push_back(line); };
    const auto apply = [&](const std::vector<Rule>& rules) {
        std::vector<std::string> names;
        for (const auto& r : rules) {
            names.push_back(r.name);
        }
        applied.push_back(names);
    };
    const auto halt_after = [&](int ms) { return [&, ms] { return slept_ms >= ms; }; };

    SUBCASE("one question a second; unchanged means nothing is applied") {
        follow_rules(script.source(), apply, halt_after(5000), options);
        CHECK(script.asked == 4);  // the fifth second ends in the halt
        CHECK(applied.empty());
        CHECK(logs.empty());
    }
    SUBCASE("a change, an invalid file, then a fix") {
        script.answers = {RuleUpdate{{rule("a"), rule("b")}, {}}, std::nullopt,
                          RuleUpdate{{}, {"f.yaml:3:1: unknown field \"x\""}},
                          RuleUpdate{{rule("a")}, {}}};
        follow_rules(script.source(), apply, halt_after(6000), options);
        CHECK(applied == std::vector<std::vector<std::string>>{{"a", "b"}, {"a"}});
        CHECK(logs == std::vector<std::string>{
                          "rules file changed: 2 rule(s)",
                          "invalid rules file, the running rules stay: f.yaml:3:1: unknown field "
                          "\"x\"",
                          "rules file changed: 1 rule(s)"});
    }
    SUBCASE("no source (stdin): it only waits for the halt, noticed within a tick") {
        follow_rules(nullptr, apply, halt_after(250), options);
        CHECK(slept_ms == 300);
        CHECK(applied.empty());
    }
}

}  // namespace cmsync::controller
