#pragma once

#include <fstream>
#include <string>

namespace cmsync {

/// A number field of this process's /proc/self/status ("Threads", "VmRSS" in KiB); -1 when
/// there is none.
inline long proc_status(const std::string& field) {
    std::ifstream status("/proc/self/status");
    const auto prefix = field + ":";
    for (std::string line; std::getline(status, line);) {
        if (line.rfind(prefix, 0) == 0) {
            return std::stol(line.substr(prefix.size()));
        }
    }
    return -1;
}

}  // namespace cmsync
