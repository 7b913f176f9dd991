#pragma once

#include <string>

namespace cmsync::cli {

/// Whether to colour stdout: --color always/never, or auto (a terminal, TERM not "dumb",
/// NO_COLOR unset).
bool use_color(const std::string& mode);

}  // namespace cmsync::cli
