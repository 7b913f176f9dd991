#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

// The block function of SHA-256 in two forms: portable C++ and the x86 SHA extensions (where
// the CPU has them: 5-10x faster, and cmsync hashes every managed value of every copy it
// checks). sha256_hex picks one; the unit tests compare them block by block.
namespace cmsync::detail {

using Sha256State = std::array<std::uint32_t, 8>;

/// Runs `blocks` 64-byte blocks of `data` through the compression function.
void sha256_blocks_portable(Sha256State& h, const unsigned char* data, std::size_t blocks);

/// The same with the SHA extensions; false (nothing done) where the CPU has none.
bool sha256_blocks_shani(Sha256State& h, const unsigned char* data, std::size_t blocks);

}  // namespace cmsync::detail
