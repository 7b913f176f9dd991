#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "util/sha256_blocks.hpp"

TEST_CASE("sha256 against FIPS 180-4 vectors") {
    CHECK(cmsync::sha256_hex("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(cmsync::sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(cmsync::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(cmsync::sha256_hex(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 at the padding boundaries (vectors from Python hashlib)") {
    // 55, 56 and 64 bytes straddle the one-or-two-block padding cases.
    CHECK(cmsync::sha256_hex(std::string(55, 'a')) ==
          "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    CHECK(cmsync::sha256_hex(std::string(56, 'a')) ==
          "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    CHECK(cmsync::sha256_hex(std::string(64, 'a')) ==
          "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("sha256: the SHA extensions' blocks match the portable ones") {
    std::mt19937 random(29);
    std::vector<unsigned char> data(64 * 40);
    for (auto& byte : data) {
        byte = static_cast<unsigned char>(random());
    }
    for (std::size_t blocks = 1; blocks <= 40; blocks += 3) {
        CAPTURE(blocks);
        cmsync::detail::Sha256State portable = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        auto extensions = portable;
        cmsync::detail::sha256_blocks_portable(portable, data.data(), blocks);
        if (!cmsync::detail::sha256_blocks_shani(extensions, data.data(), blocks)) {
            MESSAGE("this CPU has no SHA extensions: only the portable blocks are tested");
            return;
        }
        CHECK(extensions == portable);
    }
}

TEST_CASE("sha256 of every length from 0 to 300 bytes matches the portable blocks' digest") {
    // The vectors above pass through whichever form this CPU uses; this covers the padding of
    // every tail length with the portable form as the reference.
    std::string text;
    for (int n = 0; n <= 300; ++n) {
        CAPTURE(n);
        cmsync::detail::Sha256State h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        std::string padded = text;
        padded += '\x80';
        while (padded.size() % 64 != 56) {
            padded += '\0';
        }
        const std::uint64_t bits = static_cast<std::uint64_t>(n) * 8;
        for (int i = 7; i >= 0; --i) {
            padded += static_cast<char>(bits >> (8 * i));
        }
        cmsync::detail::sha256_blocks_portable(
            h, reinterpret_cast<const unsigned char*>(padded.data()), padded.size() / 64);
        std::string want;
        for (const auto word : h) {
            want += fmt::format("{:08x}", word);
        }
        CHECK(cmsync::sha256_hex(text) == want);
        text += static_cast<char>('a' + n % 26);
    }
}
