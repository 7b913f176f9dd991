#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cmsync::log {

/// How lines look: for people (text) or for log pipelines (one JSON object per line).
enum class Format { text, json };

enum class Level { info, warning, error };

/// A structured field of a JSON line: a string or a list of strings. Text lines leave fields
/// out (the message says it all); "time", "level" and "msg" are the line's own keys.
struct Field {
    std::string key;
    std::variant<std::string, std::vector<std::string>> value;
};
using Fields = std::vector<Field>;

/// `t` as RFC 3339 in UTC with milliseconds, such as 2026-11-29T08:40:00.123Z: the one
/// timestamp format of every line, text or JSON.
std::string format_time(std::chrono::system_clock::time_point t);

/// `text` with each byte sequence that is not UTF-8 replaced by U+FFFD: JSON text must be
/// UTF-8, and a clipped response body or a server's message need not be.
std::string valid_utf8(std::string_view text);

/// One line, without its newline. Text: `TIME MESSAGE`, `TIME warning: MESSAGE` or
/// `TIME error: MESSAGE`, control characters escaped (a message from a server then cannot
/// forge a line or drive the terminal). JSON: {"time","level","msg",fields...} on one line,
/// strings escaped as JSON does and made valid UTF-8.
std::string format_line(Format format, std::chrono::system_clock::time_point time, Level level,
                        std::string_view message, const Fields& fields = {});

}  // namespace cmsync::log
