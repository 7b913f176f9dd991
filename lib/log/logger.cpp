#include "log/logger.hpp"

namespace cmsync::log {

Logger::Logger(Sink sink, Format format, Clock clock)
    : sink_(std::move(sink)), format_(format), clock_(std::move(clock)) {
    if (!clock_) {
        clock_ = [] { return std::chrono::system_clock::now(); };
    }
}

void Logger::write(Stream stream, Level level, std::string_view message, const Fields& fields) {
    // The time is read under the lock, so the lines' times never go backwards.
    std::lock_guard guard(mutex_);
    auto line = format_line(format_, clock_(), level, message, fields);
    line += '\n';
    sink_(stream, line);
}

}  // namespace cmsync::log
