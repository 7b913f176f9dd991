#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace cmsync::fuzz {

/// The fuzzer's input as a string.
inline std::string input_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// Aborts, so libFuzzer records the input as a crash, when a property does not hold. The
/// targets' only accepted failure is a cmsync::Error; a broken invariant is a bug as much as a
/// crash is.
inline void check(bool holds, const char* what) {
    if (!holds) {
        std::fprintf(stderr, "fuzz property violated: %s\n", what);
        std::abort();
    }
}

}  // namespace cmsync::fuzz
