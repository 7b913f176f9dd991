#include "log/log_line.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "util/text_escape.hpp"

namespace cmsync::log {

namespace {

constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD

// The length of the UTF-8 sequence at the start of `s` (Unicode's table 3-7: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0 when it is not one. `*prefix` is then the
// number of bytes that began a sequence before it broke (replaced by one U+FFFD together).
std::size_t utf8_sequence(std::string_view s, std::size_t* prefix) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto c0 = b(0);
    *prefix = 1;
    if (c0 < 0x80) {
        return 1;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (c0 >= 0xc2 && c0 <= 0xdf) {
        length = 2;
    } else if (c0 >= 0xe0 && c0 <= 0xef) {
        length = 3;
        low = c0 == 0xe0 ? 0xa0 : 0x80;
        high = c0 == 0xed ? 0x9f : 0xbf;
    } else if (c0 >= 0xf0 && c0 <= 0xf4) {
        length = 4;
        low = c0 == 0xf0 ? 0x90 : 0x80;
        high = c0 == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        const bool in_range =
            i < s.size() && b(i) >= (i == 1 ? low : 0x80) && b(i) <= (i == 1 ? high : 0xbf);
        if (!in_range) {
            *prefix = i;
            return 0;
        }
    }
    return length;
}

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
    const auto text = valid_utf8(s);
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

std::string json_line(std::string_view time, Level level, std::string_view message,
                      const Fields& fields) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("time");
    write_string(w, time);
    w.Key("level");
    w.String(level == Level::info ? "info" : level == Level::warning ? "warning" : "error");
    w.Key("msg");
    write_string(w, message);
    for (const auto& field : fields) {
        write_string(w, field.key);  // a key is a string to the writer (Key() is String())
        if (const auto* one = std::get_if<std::string>(&field.value)) {
            write_string(w, *one);
        } else {
            w.StartArray();
            for (const auto& item : std::get<std::vector<std::string>>(field.value)) {
                write_string(w, item);
            }
            w.EndArray();
        }
    }
    w.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace

std::string format_time(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
    const auto s = std::chrono::floor<std::chrono::seconds>(ms);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                       fmt::gmtime(std::chrono::system_clock::to_time_t(s)), (ms - s).count());
}

std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        std::size_t prefix = 0;
        const auto length = utf8_sequence(text, &prefix);
        if (length == 0) {
            out += kReplacement;
            text.remove_prefix(prefix);
        } else {
            out += text.substr(0, length);
            text.remove_prefix(length);
        }
    }
    return out;
}

std::string format_line(Format format, std::chrono::system_clock::time_point time, Level level,
                        std::string_view message, const Fields& fields) {
    const auto stamp = format_time(time);
    if (format == Format::json) {
        return json_line(stamp, level, message, fields);
    }
    const std::string_view prefix = level == Level::warning ? "warning: "
                                    : level == Level::error ? "error: "
                                                            : "";
    return fmt::format("{} {}{}", stamp, prefix, escape_control(message));
}

}  // namespace cmsync::log
