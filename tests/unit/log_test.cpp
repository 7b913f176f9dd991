// The one logger: its timestamp, its text and JSON lines, and whole lines under concurrency.
#include "log/logger.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace cmsync::log;
using namespace std::chrono_literals;

namespace {

// 2026-11-29T08:40:00Z
const auto kT0 = std::chrono::system_clock::time_point{} + 1795941600s;

// A JSON text parsed strictly: one value, valid UTF-8, nothing after it.
rapidjson::Document parsed(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    INFO(text);
    REQUIRE_MESSAGE(!doc.HasParseError(), rapidjson::GetParseError_En(doc.GetParseError()));
    return doc;
}

rapidjson::Document parsed_expected(const char* text) {
    return parsed(text);
}

}  // namespace

TEST_CASE("format_time: RFC 3339 in UTC with milliseconds") {
    const struct {
        std::chrono::system_clock::time_point t;
        const char* text;
    } rows[] = {{kT0, "2026-11-29T08:40:00.000Z"},
                {kT0 + 123ms, "2026-11-29T08:40:00.123Z"},
                {kT0 + 999999us, "2026-11-29T08:40:00.999Z"},  // cut, never rounded up
                {kT0 + 1s + 7ms, "2026-11-29T08:40:01.007Z"},
                {{}, "1970-01-01T00:00:00.000Z"},
                {std::chrono::system_clock::time_point{} - 1ms, "1969-12-31T23:59:59.999Z"}};
    for (const auto& row : rows) {
        SUBCASE(row.text) {
            CHECK(format_time(row.t) == row.text);
        }
    }
}

TEST_CASE("valid_utf8 replaces what is not UTF-8 with U+FFFD") {
    const std::string r = "\xef\xbf\xbd";
    const struct {
        const char* name;
        std::string in;
        std::string out;
    } rows[] = {
        {"ASCII", "plain text", "plain text"},
        {"two, three and four bytes", "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
         "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"NUL stays (JSON escapes it)", std::string("a\0b", 3), std::string("a\0b", 3)},
        {"a lone continuation byte", "a\x80z", "a" + r + "z"},
        {"overlong two-byte form", "\xc0\xaf", r + r},
        {"overlong three-byte form", "\xe0\x80\xaf", r + r + r},
        {"a surrogate", "\xed\xa0\x80", r + r + r},
        {"past U+10FFFF", "\xf4\x90\x80\x80", r + r + r + r},
        {"never a lead byte", "\xf5\xff", r + r},
        {"cut short at the end (a clipped body)", "ab\xe2\x82", "ab" + r},
        {"cut short before ASCII", "\xf0\x9f\x98z", r + "z"},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            CHECK(valid_utf8(row.in) == row.out);
        }
    }
}

TEST_CASE("format_line: text") {
    const struct {
        const char* name;
        Level level;
        std::string message;
        const char* line;
    } rows[] = {
        {"info", Level::info, "stopped", "2026-11-29T08:40:00.000Z stopped"},
        {"warning", Level::warning, "not https", "2026-11-29T08:40:00.000Z warning: not https"},
        {"error", Level::error, "gone", "2026-11-29T08:40:00.000Z error: gone"},
        {"a newline cannot forge a line", Level::info, "a\n2026-11-29T08:40:00.000Z forged",
         "2026-11-29T08:40:00.000Z a\\n2026-11-29T08:40:00.000Z forged"},
        {"terminal escapes are shown, not run", Level::info,
         "\x1b]0;title\x07 \xc2\x9b"
         "31m",
         "2026-11-29T08:40:00.000Z \\x1b]0;title\\x07 \\u009b31m"},
        {"tabs and UTF-8 stay", Level::info, "a\tb \xc3\xa9",
         "2026-11-29T08:40:00.000Z a\tb \xc3\xa9"},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            CHECK(format_line(Format::text, kT0, row.level, row.message) == row.line);
        }
    }
    SUBCASE("fields are for JSON only: the message says it all") {
        CHECK(format_line(Format::text, kT0 + 5ms, Level::info, "ns-b/app created",
                          {{"target", "ns-b/app"}, {"keys", std::vector<std::string>{"k"}}}) ==
              "2026-11-29T08:40:00.005Z ns-b/app created");
    }
}

TEST_CASE("format_line: JSON, one object on one line") {
    SUBCASE("levels") {
        const std::pair<Level, const char*> levels[] = {
            {Level::info, "info"}, {Level::warning, "warning"}, {Level::error, "error"}};
        for (const auto& [level, name] : levels) {
            CAPTURE(name);
            const auto line = format_line(Format::json, kT0, level, "m");
            CHECK(parsed(line) ==
                  parsed_expected((std::string(R"({"time":"2026-11-29T08:40:00.000Z","level":")") +
                                   name + R"(","msg":"m"})")
                                      .c_str()));
        }
    }
    SUBCASE("time, level and msg first, then the fields in their order") {
        const auto line =
            format_line(Format::json, kT0 + 42ms, Level::info, "r/ns-b/app updated (k1, k2)",
                        {{"rule", "r"},
                         {"target", "ns-b/app"},
                         {"action", "updated"},
                         {"keys", std::vector<std::string>{"k1", "k2"}},
                         {"empty", std::vector<std::string>{}}});
        CHECK(
            line ==
            R"j({"time":"2026-11-29T08:40:00.042Z","level":"info","msg":"r/ns-b/app updated (k1, k2)",)j"
            R"j("rule":"r","target":"ns-b/app","action":"updated","keys":["k1","k2"],"empty":[]})j");
    }
    SUBCASE("strings escaped as JSON does: quotes, backslashes, every control character") {
        std::string nasty = "\"quoted\" back\\slash \n\r\t\x1b[31m \x7f";
        nasty += std::string(1, '\0') + "end";
        const auto line = format_line(Format::json, kT0, Level::warning, nasty,
                                      {{"detail", nasty}, {"keys", std::vector{nasty}}});
        CHECK(line.find('\n') == std::string::npos);
        CHECK(line.find('\x1b') == std::string::npos);
        CHECK(line.find('\0') == std::string::npos);
        const auto doc = parsed(line);
        CHECK(std::string(doc["msg"].GetString(), doc["msg"].GetStringLength()) == nasty);
        CHECK(std::string(doc["detail"].GetString(), doc["detail"].GetStringLength()) == nasty);
        CHECK(std::string(doc["keys"][0].GetString(), doc["keys"][0].GetStringLength()) == nasty);
    }
    SUBCASE("bytes that are not UTF-8 become U+FFFD: the line stays valid JSON") {
        const auto line = format_line(Format::json, kT0, Level::info,
                                      "Response Body: {\"v\":\"\xe2\x82", {{"k\xff", "\xc0"}});
        const auto doc = parsed(line);  // validates the encoding
        CHECK(std::string(doc["msg"].GetString()) == "Response Body: {\"v\":\"\xef\xbf\xbd");
        CHECK(doc.HasMember("k\xef\xbf\xbd"));
    }
}

TEST_CASE("Logger") {
    std::vector<std::pair<Stream, std::string>> lines;
    auto t = kT0;
    Logger logger([&](Stream s, std::string_view line) { lines.emplace_back(s, line); },
                  Format::text, [&] { return t += 1ms; });
    SUBCASE("info, warnings and errors to err; output to out; each line ends with a newline") {
        logger.info("watching");
        logger.warning("careful");
        logger.error("failed");
        logger.output("ns-b/app created", {{"target", "ns-b/app"}});
        REQUIRE(lines.size() == 4);
        CHECK(lines[0] ==
              std::pair{Stream::err, std::string("2026-11-29T08:40:00.001Z watching\n")});
        CHECK(lines[1] ==
              std::pair{Stream::err, std::string("2026-11-29T08:40:00.002Z warning: careful\n")});
        CHECK(lines[2] ==
              std::pair{Stream::err, std::string("2026-11-29T08:40:00.003Z error: failed\n")});
        CHECK(lines[3] ==
              std::pair{Stream::out, std::string("2026-11-29T08:40:00.004Z ns-b/app created\n")});
    }
    SUBCASE("the format switches for every line after") {
        CHECK(logger.format() == Format::text);
        logger.set_format(Format::json);
        CHECK(logger.format() == Format::json);
        logger.output("ns-b/app created", {{"target", "ns-b/app"}});
        REQUIRE(lines.size() == 1);
        CHECK(
            lines[0].second ==
            R"({"time":"2026-11-29T08:40:00.001Z","level":"info","msg":"ns-b/app created","target":"ns-b/app"})"
            "\n");
    }
}

TEST_CASE("Logger: lines of many threads never interleave, on either stream") {
    // The sink writes a line a byte at a time and yields between bytes: without the logger's
    // lock the threads' bytes would mix. The sink itself has no lock of its own.
    std::string merged;
    std::size_t out_lines = 0;
    for (const auto format : {Format::text, Format::json}) {
        CAPTURE(format == Format::json);
        merged.clear();
        out_lines = 0;
        Logger logger(
            [&](Stream s, std::string_view line) {
                for (const char c : line) {
                    merged += c;
                    std::this_thread::yield();
                }
                out_lines += s == Stream::out ? 1 : 0;
            },
            format);
        constexpr int kThreads = 8;
        constexpr int kLines = 50;
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&logger, i] {
                for (int n = 0; n < kLines; ++n) {
                    const auto message = "thread " + std::to_string(i) + " line " +
                                         std::to_string(n) + " " + std::string(40, 'a' + i);
                    if (n % 2 == 0) {
                        logger.output(message, {{"thread", std::to_string(i)}});
                    } else {
                        logger.info(message);
                    }
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        std::set<std::string> seen;
        std::string last_time;
        std::size_t start = 0;
        while (start < merged.size()) {
            const auto end = merged.find('\n', start);
            REQUIRE(end != std::string::npos);
            const auto line = merged.substr(start, end - start);
            start = end + 1;
            std::string message;
            std::string time;
            if (format == Format::json) {
                const auto doc = parsed(line);
                message = doc["msg"].GetString();
                time = doc["time"].GetString();
            } else {
                REQUIRE(line.size() > 25);
                time = line.substr(0, 24);
                message = line.substr(25);
            }
            CHECK(time >= last_time);  // read under the lock: in the order written
            last_time = time;
            const auto at = message.find(" line ");
            REQUIRE(at != std::string::npos);
            const int thread = std::stoi(message.substr(7, at - 7));
            CHECK(message.substr(message.size() - 41) ==
                  " " + std::string(40, static_cast<char>('a' + thread)));
            CHECK(seen.insert(message).second);
        }
        CHECK(seen.size() == kThreads * kLines);
        CHECK(out_lines == kThreads * kLines / 2);
    }
}
