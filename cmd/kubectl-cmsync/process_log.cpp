#include "process_log.hpp"

#include <cstdio>

namespace cmsync::cli {

log::Logger& process_log() {
    // Flushed line by line: a log collector sees each line as it happens.
    static log::Logger logger([](log::Stream stream, std::string_view line) {
        auto* file = stream == log::Stream::out ? stdout : stderr;
        std::fwrite(line.data(), 1, line.size(), file);
        std::fflush(file);
    });
    return logger;
}

}  // namespace cmsync::cli
