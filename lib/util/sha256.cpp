#include "util/sha256.hpp"

#include <array>
#include <cstdint>

#include "util/sha256_blocks.hpp"

// Hand-written rather than OpenSSL's EVP_Digest (STYLE.md 11), measured for issue 17: linking
// libcrypto adds libcrypto.so.3 to a release binary that must need only libc and libstdc++
// (tests/e2e/release_test.sh; libcurl is dlopen()ed), or 3.8 MB (+135%) linked statically;
// (1 KiB: 7.3 us here vs 3.5 us, 1 MiB: 12 ms vs 1.3 ms, while a ConfigMap holds at most
// 1 MiB). tests/fuzz/base64_fuzz.cpp compares it with libcrypto. Where the CPU has the SHA
// extensions they do the blocks (sha256_shani.cpp): hashing a 24 KB CA bundle in each of 100
// copies per source change was 15% of watch's CPU (issue 29's propagation, perf).
namespace cmsync {

namespace detail {

namespace {

constexpr std::uint32_t rotr(std::uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

void compress(std::array<std::uint32_t, 8>& h, const unsigned char* block) {
    std::array<std::uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i) {
        w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
               (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
        const auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto [a, b, c, d, e, f, g, hh] = h;
    for (int i = 0; i < 64; ++i) {
        const auto s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const auto ch = (e & f) ^ (~e & g);
        const auto t1 = hh + s1 + ch + kSha256Rounds[i] + w[i];
        const auto s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const auto maj = (a & b) ^ (a & c) ^ (b & c);
        const auto t2 = s0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

}  // namespace

void sha256_blocks_portable(Sha256State& h, const unsigned char* data, std::size_t blocks) {
    for (std::size_t i = 0; i < blocks; ++i) {
        compress(h, data + 64 * i);
    }
}

}  // namespace detail

namespace {

void run_blocks(detail::Sha256State& h, const unsigned char* data, std::size_t blocks) {
    if (!detail::sha256_blocks_shani(h, data, blocks)) {
        detail::sha256_blocks_portable(h, data, blocks);
    }
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
    detail::Sha256State h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t full = bytes.size() / 64 * 64;
    run_blocks(h, data, full / 64);
    std::array<unsigned char, 128> tail{};
    const std::size_t rest = bytes.size() - full;
    for (std::size_t i = 0; i < rest; ++i) {
        tail[i] = data[full + i];
    }
    tail[rest] = 0x80;
    const std::size_t tail_len = rest + 9 <= 64 ? 64 : 128;
    const std::uint64_t bits = static_cast<std::uint64_t>(bytes.size()) * 8;
    for (int i = 0; i < 8; ++i) {
        tail[tail_len - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
    }
    run_blocks(h, tail.data(), tail_len / 64);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (const auto word : h) {
        for (int shift = 28; shift >= 0; shift -= 4) {
            out += kHex[(word >> shift) & 0xF];
        }
    }
    return out;
}

}  // namespace cmsync
