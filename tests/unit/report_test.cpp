#include <doctest/doctest.h>

#include "canary.hpp"
#include "report/diff_report.hpp"
#include "report/resync_report.hpp"
#include "report/sync_report.hpp"
#include "report/unified_diff.hpp"
#include "util/text_escape.hpp"
#include "util/validate.hpp"

using namespace cmsync;

TEST_CASE("unified_diff") {
    SUBCASE("equal texts give nothing") {
        CHECK(unified_diff("a\n", "a\n", "x", "y").empty());
    }
    SUBCASE("one changed line with context") {
        const auto d =
            unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nFIVE\n6\n7\n8\n", "old", "new");
        CHECK(d == "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n");
    }
    SUBCASE("from nothing") {
        CHECK(unified_diff("", "a\nb\n", "old", "new") ==
              "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    }
    SUBCASE("to nothing") {
        CHECK(unified_diff("a\n", "", "old", "new") == "--- old\n+++ new\n@@ -1,1 +0,0 @@\n-a\n");
    }
    SUBCASE("distant changes make two hunks") {
        std::string a;
        std::string b;
        for (int i = 1; i <= 20; ++i) {
            a += std::to_string(i) + "\n";
            b += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
        }
        const auto d = unified_diff(a, b, "o", "n", 2);
        CHECK(d ==
              "--- o\n+++ n\n@@ -1,4 +1,4 @@\n 1\n-2\n+x\n 3\n 4\n@@ -16,5 +16,5 @@\n 16\n "
              "17\n-18\n+x\n 19\n 20\n");
    }
    SUBCASE("only a trailing newline differs") {
        CHECK(unified_diff("a\n", "a", "o", "n").find("trailing newline") != std::string::npos);
    }
}

TEST_CASE("diff exit codes: 0 nothing, 1 changes or conflicts, 2 errors") {
    TargetOutcome unchanged{{"a", "x"}, {"b", "x"}, {}, ""};
    TargetOutcome update{{"a", "x"}, {"c", "x"}, {}, ""};
    update.plan.action = TargetAction::update;
    TargetOutcome conflict{{"a", "x"}, {"d", "x"}, {}, ""};
    conflict.plan.action = TargetAction::conflict;
    TargetOutcome failed{{"a", "x"}, {"e", "x"}, {}, "forbidden"};
    CHECK(diff_exit_code({unchanged}) == 0);
    CHECK(diff_exit_code({unchanged, update}) == 1);
    CHECK(diff_exit_code({conflict}) == 1);
    CHECK(diff_exit_code({update, failed}) == 2);
    CHECK(diff_exit_code({}) == 0);
}

TEST_CASE("render_diff_text colours only when asked") {
    TargetOutcome o{{"a", "x"}, {"b", "x"}, {}, ""};
    o.plan.action = TargetAction::create;
    o.plan.keys.push_back(
        {"k", KeyAction::add, kube::Value{"v\n", false}, std::nullopt, "", false});
    const auto plain = render_diff_text({o}, false);
    CHECK(plain == "b/x: create (add k)\n--- b/x:k (absent)\n+++ a/x:k\n@@ -0,0 +1,1 @@\n+v\n");
    const auto colored = render_diff_text({o}, true);
    CHECK(colored.find("\x1b[32m+v\x1b[0m") != std::string::npos);
}

TEST_CASE("escape_control: text from a server cannot drive the terminal") {
    const auto row = [](std::string_view in, std::string_view out) {
        CAPTURE(in);
        CHECK(escape_control(in) == out);
    };
    SUBCASE("plain text and UTF-8 pass") {
        row("caf\xc3\xa9 \xe2\x82\xac\tx", "caf\xc3\xa9 \xe2\x82\xac\tx");
    }
    SUBCASE("CSI colour") {
        row("\x1b[31mred", "\\x1b[31mred");
    }
    SUBCASE("OSC title") {
        row("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07");
    }
    SUBCASE("line breaks and carriage returns") {
        row("a\nb\rc", "a\\nb\\rc");
    }
    SUBCASE("DEL and C1 controls") {
        row("\x7f\xc2\x9b"
            "2J\xc2\x85",
            "\\x7f\\u009b2J\\u0085");
    }
    SUBCASE("line by line keeps the breaks") {
        CHECK(escape_control_lines("a\x1b\nb\n") == "a\\x1b\nb\n");
    }
}

TEST_CASE("render_diff_text and render_sync_text escape what the server sent") {
    TargetOutcome o{{"a", "x"}, {"b", "x"}, {}, ""};
    o.plan.action = TargetAction::create;
    o.plan.keys.push_back({"k\x1b]0;t\x07", KeyAction::add, kube::Value{"\x1b[2Jv\n", false},
                           std::nullopt, "", false});
    o.plan.warnings.push_back("w\x1b[1A");
    for (const bool color : {false, true}) {
        CAPTURE(color);
        for (const auto& text :
             {render_diff_text({o}, color), render_sync_text({o}, DryRunMode::none, color)}) {
            CHECK(text.find("\x1b]") == std::string::npos);
            CHECK(text.find("\x1b[2J") == std::string::npos);
            CHECK(text.find("\x1b[1A") == std::string::npos);
        }
    }
    CHECK(render_diff_text({o}, false).find("+\\x1b[2Jv\n") != std::string::npos);
}

TEST_CASE("render_diff_json shape") {
    TargetOutcome o{{"a", "x"}, {"b", "x"}, {}, "boom"};
    const auto json = render_diff_json("a", {o});
    CHECK(
        json ==
        R"({"source":"a","targets":[{"source":"a/x","namespace":"b","name":"x","action":"error","keys":[],"error":"boom"}]})"
        "\n");
}

TEST_CASE("validation of names, keys and durations") {
    CHECK_FALSE(invalid_namespace("ns-a"));
    CHECK(invalid_namespace("Bad_NS"));
    CHECK(invalid_namespace(std::string(64, 'a')));
    CHECK(invalid_namespace("-a"));
    CHECK_FALSE(invalid_object_name("ConfigMap", "app.config-1"));
    CHECK(invalid_object_name("ConfigMap", "App") ==
          "invalid ConfigMap name \"App\": must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', "
          "'.', at most 253 characters)");
    CHECK(invalid_object_name("Secret", "a..b")->rfind("invalid Secret name \"a..b\"", 0) == 0);
    CHECK_FALSE(invalid_key("config.yaml"));
    CHECK_FALSE(invalid_key("A_b-c.d"));
    CHECK(invalid_key("a/b"));
    CHECK(invalid_key(".."));
    CHECK(invalid_key("..x"));
    CHECK(invalid_key(""));
    CHECK(parse_duration("0") == std::chrono::milliseconds(0));
    CHECK(parse_duration("1m30s") == std::chrono::milliseconds(90000));
    CHECK(parse_duration("250ms") == std::chrono::milliseconds(250));
    CHECK(parse_duration("1.5s") == std::chrono::milliseconds(1500));
    CHECK_FALSE(parse_duration("forever"));
    CHECK_FALSE(parse_duration("5"));
}

TEST_CASE("keep_summary_only: a sync report reads the same without the values") {
    kube::Object src;
    src.namespace_name = "a";
    src.name = "x";
    src.data = {{"new", {"1\n", false}}, {"same", {"s\n", false}}, {"mine", {"2\n", false}}};
    kube::Object copy;
    copy.namespace_name = "b";
    copy.name = "x";
    copy.resource_version = "7";
    copy.labels["cmsync.io/managed"] = "true";
    copy.annotations["cmsync.io/sync-from"] = "a/x";
    copy.data = {{"same", {"s\n", false}}, {"mine", {"hand edit\n", false}}};
    for (const bool force : {false, true}) {
        CAPTURE(force);
        const kube::Object* targets[] = {nullptr, &copy};
        for (const auto* target : targets) {
            TargetOutcome o{{"a", "x"}, {"b", "x"}, {}, ""};
            o.plan = plan_target({&src, target, "b", std::nullopt, force});
            REQUIRE(!o.plan.keys.empty());
            const auto text = render_sync_text({o}, DryRunMode::none, false);
            const auto json = render_sync_json("a", {o}, DryRunMode::none);
            keep_summary_only(o);
            CHECK(!o.plan.desired);
            for (const auto& k : o.plan.keys) {
                CHECK(!k.source);
                CHECK(!k.target);
            }
            CHECK(render_sync_text({o}, DryRunMode::none, false) == text);
            CHECK(render_sync_json("a", {o}, DryRunMode::none) == json);
        }
    }
}

namespace {

// A Secret copy whose plan holds every kind of key change, each value holding the canary.
TargetOutcome secret_outcome() {
    TargetOutcome o{{"a", "tls"}, {"b", "tls"}, {}, ""};
    o.kind = kube::kSecret;
    o.plan.action = TargetAction::conflict;
    o.plan.message = "managed keys in conflict (use --force to overwrite)";
    const auto v = [](std::string s) { return kube::Value{std::move(s), true}; };
    o.plan.keys = {
        {"added", KeyAction::add, v(kCanary), std::nullopt, "", false},
        {"changed", KeyAction::modify, v(std::string(kCanary) + "-new"), v(kCanary), "", false},
        {"dropped", KeyAction::remove, std::nullopt, v(kCanary), "", false},
        {"edited", KeyAction::conflict, v(kCanary), v(std::string(kCanary) + "\n"),
         "managed key was edited in the target", false},
        {"same", KeyAction::unchanged, v(kCanary), v(kCanary), "", false},
    };
    return o;
}

}  // namespace

TEST_CASE("a sensitive kind's reports: keys, actions and sizes, never a value or its hash") {
    const auto o = secret_outcome();
    SUBCASE("diff text masks as kubectl diff does") {
        const auto text = render_diff_text({o}, false);
        check_no_canary(text);
        CHECK(text ==
              "b/tls: conflict (add added, modify changed, remove dropped, conflict edited): "
              "managed keys in conflict (use --force to overwrite)\n"
              "--- b/tls:added (absent)\n+++ a/tls:added\n@@ -0,0 +1,1 @@\n+*** (21 bytes)\n"
              "--- b/tls:changed\n+++ a/tls:changed\n@@ -1,1 +1,1 @@\n"
              "-*** (before, 21 bytes)\n+*** (after, 25 bytes)\n"
              "--- b/tls:dropped\n+++ b/tls:dropped (removed)\n@@ -1,1 +0,0 @@\n-*** (21 bytes)\n"
              "  conflict on \"edited\": managed key was edited in the target\n"
              "--- b/tls:edited\n+++ a/tls:edited\n@@ -1,1 +1,1 @@\n"
              "-*** (before, 22 bytes)\n+*** (after, 21 bytes)\n");
        check_no_canary(render_diff_text({o}, true));
    }
    SUBCASE("equal values on both sides show no diff (a forced conflict that changes nothing)") {
        TargetOutcome same = o;
        same.plan.keys = {{"k", KeyAction::conflict, kube::Value{kCanary, true},
                           kube::Value{kCanary, true}, "r", true}};
        CHECK(key_diff(same, same.plan.keys[0]).empty());
    }
    SUBCASE("diff -o json: keys, changes and the masked diff") {
        const auto json = render_diff_json("a", {o});
        check_no_canary(json);
        CHECK(json.find(R"("diff":"--- b/tls:changed\n+++ a/tls:changed\n@@ -1,1 +1,1 @@\n-*** )"
                        R"((before, 21 bytes)\n+*** (after, 25 bytes)\n")") != std::string::npos);
    }
    SUBCASE("sync text and -o json") {
        for (const auto mode : {DryRunMode::none, DryRunMode::client, DryRunMode::server}) {
            check_no_canary(render_sync_text({o}, mode, false));
            check_no_canary(render_sync_json("a", {o}, mode));
        }
    }
    SUBCASE("resync text and -o json") {
        const ResyncOutcome r{o, ResyncKind::conflict};
        check_no_canary(render_resync_line(r));
        check_no_canary(render_resync_json_copy(r, true));
    }
    SUBCASE("the same plan of a ConfigMap shows its values, as before") {
        TargetOutcome cm = o;
        cm.kind = kube::kConfigMap;
        CHECK(render_diff_text({cm}, false).find(sha256_hex(kCanary).substr(0, 16)) !=
              std::string::npos);
    }
}
