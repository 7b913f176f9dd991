#include "output.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace cmsync::cli {

bool use_color(const std::string& mode) {
    if (mode == "always") {
        return true;
    }
    if (mode == "never") {
        return false;
    }
    const char* term = std::getenv("TERM");
    return isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr && term != nullptr &&
           std::strcmp(term, "dumb") != 0;
}

}  // namespace cmsync::cli
