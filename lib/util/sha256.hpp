#pragma once

#include <string>
#include <string_view>

namespace cmsync {

/// The SHA-256 digest of `bytes` as 64 lowercase hex digits (FIPS 180-4).
std::string sha256_hex(std::string_view bytes);

}  // namespace cmsync
