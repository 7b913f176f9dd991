#include <doctest/doctest.h>

#include "error.hpp"
#include "kube/exec_credential.hpp"
#include "kube/json.hpp"
#include "kube/object.hpp"
#include "kube/watch_event.hpp"
#include "test_inputs.hpp"
#include "watch/watch_state.hpp"

using namespace cmsync;

namespace {

std::string nested(int depth) {
    return R"({"a":)" + std::string(static_cast<std::size_t>(depth - 1), '[') +
           std::string(static_cast<std::size_t>(depth - 1), ']') + "}";
}

std::string problem(const std::string& text) {
    rapidjson::Document doc;
    return kube::parse_json_object(text, doc);
}

}  // namespace

TEST_CASE("JSON of any depth is parsed without recursion and refused past the limit") {
    const std::string too_deep = "JSON nested deeper than 128 levels";
    SUBCASE("500,000 levels (a recursive parser overflows the stack)") {
        CHECK(problem(test_input("deeply_nested.json")) == too_deep);
    }
    SUBCASE("unterminated") {
        CHECK(problem(std::string(1'000'000, '[')) == "not JSON: Invalid value. (offset 1000000)");
    }
    SUBCASE("at the limit") {
        CHECK(problem(nested(kube::kMaxJsonDepth)).empty());
    }
    SUBCASE("one past the limit") {
        CHECK(problem(nested(kube::kMaxJsonDepth + 1)) == too_deep);
    }
    SUBCASE("not an object") {
        CHECK(problem("[]") == "not a JSON object");
    }
}

TEST_CASE("deep JSON from a server or a file is an error naming what was expected") {
    const auto deep = test_input("deeply_nested.json");
    CHECK_THROWS_WITH_AS(kube::object_from_json(kube::kConfigMap, deep, true),
                         "expected a ConfigMap: JSON nested deeper than 128 levels", Error);
    CHECK_THROWS_WITH_AS(
        kube::parse_watch_event(R"({"type":"ADDED","object":)" + deep + "}", &kube::kConfigMap),
        "expected a watch event: JSON nested deeper than 128 levels", Error);
    CHECK_THROWS_WITH_AS(parse_watch_state(deep, "/f"),
                         "state file /f: JSON nested deeper than 128 levels", Error);
}

TEST_CASE("JSON round trip: what cannot be written back as read is refused") {
    SUBCASE("a duplicate member, at any depth") {
        CHECK(problem(R"({"binaryData":{"a":"AA=="},"binaryData":{"b":"AA=="}})") ==
              R"(JSON with a duplicate member "binaryData")");
        CHECK(problem(R"({"m":[{"k":1,"j":2,"k":3}]})") == R"(JSON with a duplicate member "k")");
    }
    SUBCASE("a number beyond double range") {
        CHECK(problem(R"({"n":17976931348623159e292})") == "JSON with a number out of range");
        CHECK(problem(R"({"n":[-1e999]})").rfind("not JSON: Number too big", 0) == 0);
    }
    // Found by fuzzing (issue 17): RapidJSON 1.1's own conversion has undefined behaviour on
    // these; they are now read exactly (std::from_chars), or refused when no double holds them.
    SUBCASE("extreme decimal exponents read as their exact value") {
        const auto one_long = "1" + std::string(300, '0') + "e-300";
        const auto one_fraction = "0." + std::string(400, '0') + "1e401";
        for (const auto& [text, written] : std::vector<std::pair<std::string, std::string>>{
                 {R"({"n":0e300})", R"({"n":0.0})"},
                 {R"({"n":[-0.0e-30]})", R"({"n":[-0.0]})"},
                 {R"({"n":0.00000000000000000000000})", R"({"n":0.0})"},
                 {R"({"n":0E23,"m":1e300})", R"({"n":0.0,"m":1e300})"},
                 {R"({"n":)" + one_long + "}", R"({"n":1.0})"},
                 {R"({"n":)" + one_fraction + "}", R"({"n":1.0})"},
                 {R"({"s":"0e300","t":"\"0e300"})", R"({"s":"0e300","t":"\"0e300"})"},
                 {R"({"n":4.9406564584124654e-324})", R"({"n":5e-324})"},
             }) {
            CAPTURE(text);
            rapidjson::Document doc;
            REQUIRE(kube::parse_json_object(text, doc).empty());
            CHECK(kube::to_json(doc) == written);
        }
    }
    SUBCASE("a number no double holds (below the smallest subnormal) is refused") {
        for (const char* text : {R"({"n":1e-341})", R"({"n":12.5e-340})", R"({"n":[2e-400]})"}) {
            CAPTURE(text);
            CHECK(problem(text) == "JSON with a number out of range");
        }
        const auto tiny = "0." + std::string(500, '0') + "37445734561825861";
        CHECK_THROWS_WITH_AS(kube::parse_exec_credential(tiny, {}),
                             "exec plugin : output is not an ExecCredential JSON object", Error);
        CHECK_THROWS_WITH_AS(parse_watch_state(R"({"version":1,"n":1E-999})", "/f"),
                             "state file /f: JSON with a number out of range", Error);
    }
    SUBCASE("numbers that fit are written back as read") {
        const std::string text =
            R"({"a":0.1,"b":1.7976931348623157e308,"c":-9223372036854775808,"d":18446744073709551615,"e":5e-324})";
        rapidjson::Document doc;
        REQUIRE(kube::parse_json_object(text, doc).empty());
        CHECK(kube::to_json(doc) == text);
    }
    SUBCASE("a ConfigMap with two binaryData is an error, not a stale copy written back") {
        CHECK_THROWS_WITH_AS(
            kube::object_from_json(
                kube::kConfigMap,
                R"({"metadata":{"name":"a"},"binaryData":{"k":"AA=="},"binaryData":{"k":"AQ=="}})",
                true),
            R"(expected a ConfigMap: JSON with a duplicate member "binaryData")", Error);
    }
}

TEST_CASE("SizedDocument: the same DOM as a Document, also when the text outgrows its pool") {
    std::string big = R"({"metadata":{"name":"a"},"data":{)";
    for (int i = 0; i < 2000; ++i) {
        big += (i == 0 ? "" : ",") + std::string("\"key") + std::to_string(i) + "\":\"" +
               std::string(static_cast<std::size_t>(i % 97), 'v') + "\"";
    }
    big += "}}";
    for (const std::size_t guess : {std::size_t{0}, std::size_t{64}, big.size()}) {
        CAPTURE(guess);
        rapidjson::Document plain;
        REQUIRE(kube::parse_json_object(big, plain).empty());
        kube::SizedDocument sized(guess);
        REQUIRE(kube::parse_json_object(big, sized).empty());
        CHECK(sized == plain);
        CHECK(kube::to_json(sized) == kube::to_json(plain));
        CHECK(kube::to_json(sized) == big);
    }
    kube::SizedDocument bad(10);
    CHECK(kube::parse_json_object(R"({"a":)", bad).rfind("not JSON", 0) == 0);
}

TEST_CASE("JSON strings: escapes and multi-byte text at every offset of a 16-byte block") {
    // The parser copies strings 16 bytes at a time from aligned blocks (RAPIDJSON_SSE2): an
    // escape, a quote or a UTF-8 sequence may fall anywhere in a block, and a NUL in the text
    // is still an error, not the end of the text.
    for (std::size_t at = 0; at < 40; ++at) {
        CAPTURE(at);
        const std::string head(at, 'x');
        const std::string tail(37, 'y');
        const std::string text = R"({"k":")" + head + R"(\n\"\\\u00e9é)" + tail + R"("})";
        rapidjson::Document doc;
        REQUIRE(kube::parse_json_object(text, doc).empty());
        CHECK(kube::json_string(doc, "k") == head + "\n\"\\\xc3\xa9\xc3\xa9" + tail);
        const std::string padded = std::string(at, ' ') + R"({"k":")" + head + R"("})";
        CHECK(kube::parse_json_object(padded, doc).empty());
        // A NUL, and the control bytes 0x1A-0x1F that RapidJSON 1.1's SSE2 scan lets through,
        // are refused inside a string as every other raw control byte is.
        for (const char control : {'\0', '\x01', '\x19', '\x1a', '\x1b', '\x1f'}) {
            CAPTURE(static_cast<int>(control));
            std::string raw = text;
            raw[6 + at + 2] = control;
            CHECK_FALSE(kube::parse_json_object(raw, doc).empty());
        }
    }
    // Written back, every control byte is escaped (RapidJSON 1.1's SSE2 writer wrote
    // 0x1A-0x1F raw: found by tests/fuzz/configmap_fuzz).
    rapidjson::Document doc;
    REQUIRE(kube::parse_json_object(R"({"k":")" + std::string(40, 'x') +
                                        R"(\u001a\u001b\u001f\u0001)" + std::string(40, 'y') +
                                        R"("})",
                                    doc)
                .empty());
    const auto written = kube::to_json(doc);
    CHECK(written.find('\x1b') == std::string::npos);
    CHECK(written.find("\\u001B") != std::string::npos);
    rapidjson::Document again;
    CHECK(kube::parse_json_object(written, again).empty());
}
