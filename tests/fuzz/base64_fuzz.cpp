// base64 (lib/kube/base64.*) and sha256 (lib/util/sha256.*) against OpenSSL's libcrypto, the
// differential test STYLE.md asks for while they stay hand-written. The input is both the
// bytes to encode and hash and the text to decode.
#include <openssl/evp.h>

#include <algorithm>
#include <string>

#include "fuzz_check.hpp"
#include "kube/base64.hpp"
#include "util/sha256.hpp"

using cmsync::fuzz::check;
namespace kube = cmsync::kube;

namespace {

std::string openssl_encode(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string openssl_sha256_hex(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    check(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) == 1,
          "EVP_Digest failed");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

// What kube::base64_decode accepts, decided without it: padded base64 in groups of four,
// '\r' and '\n' anywhere ignored, '=' only as the last one or two characters. Trailing bits
// are not checked (as Go's StdEncoding, which decodes binaryData in the API server).
bool valid_base64(const std::string& text) {
    std::string clean;
    for (const char c : text) {
        if (c != '\r' && c != '\n') {
            clean += c;
        }
    }
    if (clean.size() % 4 != 0) {
        return false;
    }
    const auto first_pad = clean.find('=');
    const auto body_end = first_pad == std::string::npos ? clean.size() : first_pad;
    if (clean.size() - body_end > 2 ||
        clean.find_first_not_of('=', body_end) != std::string::npos) {
        return false;
    }
    return std::all_of(
        clean.begin(), clean.begin() + static_cast<std::ptrdiff_t>(body_end),
        [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = cmsync::fuzz::input_text(data, size);
    const auto encoded = kube::base64_encode(bytes);
    check(encoded == openssl_encode(bytes), "base64_encode differs from EVP_EncodeBlock");
    check(kube::base64_decode(encoded) == bytes, "base64 does not round trip");
    check(cmsync::sha256_hex(bytes) == openssl_sha256_hex(bytes),
          "sha256_hex differs from EVP_Digest");

    const auto decoded = kube::base64_decode(bytes);
    check(decoded.has_value() == valid_base64(bytes), "base64_decode accepts or refuses wrongly");
    if (decoded) {
        // The same text re-encoded canonically decodes to the same bytes, and libcrypto's
        // decoder agrees with it once the padding bytes it counts are taken off.
        std::string clean;
        for (const char c : bytes) {
            if (c != '\r' && c != '\n') {
                clean += c;
            }
        }
        std::string theirs(clean.size() / 4 * 3, '\0');
        const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(theirs.data()),
                                      reinterpret_cast<const unsigned char*>(clean.data()),
                                      static_cast<int>(clean.size()));
        check(n >= 0, "EVP_DecodeBlock refused valid base64");
        const auto pad = static_cast<std::size_t>(std::count(clean.begin(), clean.end(), '='));
        theirs.resize(static_cast<std::size_t>(n) - pad);
        check(theirs == *decoded, "base64_decode differs from EVP_DecodeBlock");
    }
    return 0;
}
