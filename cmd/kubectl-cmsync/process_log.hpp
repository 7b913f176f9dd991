#pragma once

#include "log/logger.hpp"

namespace cmsync::cli {

/// The process's one logger: info, warnings, errors and the request log on stderr, watch's
/// actions on stdout. Text until a command asks for JSON (`watch --log-format json`).
log::Logger& process_log();

}  // namespace cmsync::cli
