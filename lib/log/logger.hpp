#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string_view>

#include "log/log_line.hpp"

namespace cmsync::log {

/// Where a line goes: the command's output proper (watch's actions) or its diagnostics (info,
/// warnings, errors, the request log). cmd maps them to stdout and stderr.
enum class Stream { out, err };

/// The one logger of a process: every line gets the same timestamp format and the same
/// format (text or JSON), and lines of different threads never interleave, whichever stream
/// they go to (one lock for both: a reader of the two streams merged sees whole lines).
class Logger {
  public:
    /// Receives each finished line, its newline included, under the logger's lock.
    using Sink = std::function<void(Stream stream, std::string_view line)>;
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    /// `clock` defaults to the system clock.
    explicit Logger(Sink sink, Format format = Format::text, Clock clock = {});

    /// Switches the format; for a command that knows it only once its flags are read.
    void set_format(Format format) { format_ = format; }
    /// The format lines are written in now.
    Format format() const { return format_; }

    /// Writes one line to `stream`; `fields` are kept in JSON only.
    void write(Stream stream, Level level, std::string_view message, const Fields& fields = {});
    void info(std::string_view message, const Fields& fields = {}) {
        write(Stream::err, Level::info, message, fields);
    }
    void warning(std::string_view message, const Fields& fields = {}) {
        write(Stream::err, Level::warning, message, fields);
    }
    void error(std::string_view message, const Fields& fields = {}) {
        write(Stream::err, Level::error, message, fields);
    }
    /// A line of the command's output (an info line on Stream::out).
    void output(std::string_view message, const Fields& fields = {}) {
        write(Stream::out, Level::info, message, fields);
    }

  private:
    Sink sink_;
    std::atomic<Format> format_;
    Clock clock_;
    std::mutex mutex_;
};

}  // namespace cmsync::log
