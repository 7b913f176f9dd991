#include "util/sha256_blocks.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace cmsync::detail {

#if defined(__x86_64__)

namespace {

bool cpu_has_sha() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) {
        return false;
    }
    const bool ssse3_sse41 = (c & (1U << 9)) != 0 && (c & (1U << 19)) != 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) {
        return false;
    }
    return ssse3_sse41 && (b & (1U << 29)) != 0;  // CPUID.7.0:EBX.SHA
}

// The instructions keep the state as ABEF and CDGH (Intel's SHA extensions reference); each
// sha256rnds2 does two rounds, a group of four words takes two.
__attribute__((target("sha,sse4.1,ssse3"))) void blocks(Sha256State& h, const unsigned char* data,
                                                        std::size_t count) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&h[0])), 0xB1);
    __m128i cdgh =
        _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&h[4])), 0x1B);
    __m128i abef = _mm_alignr_epi8(tmp, cdgh, 8);
    cdgh = _mm_blend_epi16(cdgh, tmp, 0xF0);
    for (; count > 0; --count, data += 64) {
        const __m128i abef_in = abef;
        const __m128i cdgh_in = cdgh;
        __m128i w[4];
        for (int g = 0; g < 16; ++g) {
            __m128i& now = w[g % 4];
            if (g < 4) {
                now = _mm_shuffle_epi8(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * g)), swap);
            } else {
                // W[t] = W[t-16] + s0(W[t-15]) + W[t-7] + s1(W[t-2]), four at a time.
                const __m128i& prev = w[(g + 3) % 4];
                __m128i next = _mm_sha256msg1_epu32(now, w[(g + 1) % 4]);
                next = _mm_add_epi32(next, _mm_alignr_epi8(prev, w[(g + 2) % 4], 4));
                now = _mm_sha256msg2_epu32(next, prev);
            }
            __m128i msg = _mm_add_epi32(
                now, _mm_load_si128(reinterpret_cast<const __m128i*>(&kSha256Rounds[4 * g])));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
            msg = _mm_shuffle_epi32(msg, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, msg);
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }
    tmp = _mm_shuffle_epi32(abef, 0x1B);
    cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&h[0]), _mm_blend_epi16(tmp, cdgh, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&h[4]), _mm_alignr_epi8(cdgh, tmp, 8));
}

}  // namespace

bool sha256_blocks_shani(Sha256State& h, const unsigned char* data, std::size_t count) {
    static const bool available = cpu_has_sha();
    if (!available) {
        return false;
    }
    blocks(h, data, count);
    return true;
}

#else

bool sha256_blocks_shani(Sha256State&, const unsigned char*, std::size_t) {
    return false;
}

#endif

}  // namespace cmsync::detail
