// RapidJSON's SSE2 string scanning, for this file's reader only (every x86-64 CPU has SSE2).
// Defined before any RapidJSON header, and never where JSON is written: RapidJSON 1.1's SSE2
// writer lets the bytes 0x1A-0x1F through unescaped (found by tests/fuzz/configmap_fuzz).
#if defined(__x86_64__)
#define RAPIDJSON_SSE2
#include <emmintrin.h>
#endif

#include <fmt/format.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kube/json.hpp"

namespace cmsync::kube {

namespace {

std::string duplicate_member(const rapidjson::Value& object) {
    std::vector<std::string_view> names;
    names.reserve(object.MemberCount());
    for (const auto& m : object.GetObject()) {
        names.emplace_back(m.name.GetString(), m.name.GetStringLength());
    }
    std::sort(names.begin(), names.end());
    const auto it = std::adjacent_find(names.begin(), names.end());
    if (it == names.end()) {
        return {};
    }
    return fmt::format("JSON with a duplicate member \"{}\"", it->substr(0, 64));
}

// What the parser accepts but cmsync must not keep, found without recursion: a duplicate
// member would survive a read-modify-write as a stale copy (lookups see only the first).
std::string check_document(const rapidjson::Value& root) {
    std::vector<std::pair<const rapidjson::Value*, int>> containers{{&root, 1}};
    while (!containers.empty()) {
        // Not a structured binding: clang before 16 cannot capture one in `visit` below.
        const auto* value = containers.back().first;
        const int depth = containers.back().second;
        containers.pop_back();
        if (depth > kMaxJsonDepth) {
            return fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth);
        }
        const auto visit = [&](const rapidjson::Value& child) {
            if (child.IsObject() || child.IsArray()) {
                containers.emplace_back(&child, depth + 1);
            }
        };
        if (value->IsObject()) {
            if (auto problem = duplicate_member(*value); !problem.empty()) {
                return problem;
            }
            for (const auto& m : value->GetObject()) {
                visit(m.value);
            }
        } else {
            for (const auto& v : value->GetArray()) {
                visit(v);
            }
        }
    }
    return {};
}

// RapidJSON 1.1's own number conversion has undefined behaviour on numbers whose decimal
// exponent is extreme (found by fuzzing, issue 17: "0e300" takes __builtin_clzll(0), and long
// fractions or exponents index its table of cached powers out of bounds). So the reader hands
// numbers over as text and std::from_chars, exact and total, converts them: integers that fit
// 64 bits stay integers (as RapidJSON keeps them), everything else becomes the nearest double,
// and a number beyond double range (either way) is refused rather than read as inf or 0.
class NumberFilter {
  public:
    NumberFilter(rapidjson::Document& out, std::string& problem) : out_(out), problem_(problem) {}

    bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
        const char* end = text + length;
        const bool integral =
            std::none_of(text, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; });
        if (integral) {
            if (*text == '-') {
                std::int64_t value = 0;
                if (std::from_chars(text, end, value).ec == std::errc{}) {
                    return out_.Int64(value);
                }
            } else {
                std::uint64_t value = 0;
                if (std::from_chars(text, end, value).ec == std::errc{}) {
                    return out_.Uint64(value);
                }
            }
        }
        double value = 0;
        const auto [ptr, ec] = std::from_chars(text, end, value);
        if (ec != std::errc{} || ptr != end || !std::isfinite(value)) {
            problem_ = "JSON with a number out of range";
            return false;
        }
        return out_.Double(value);
    }

    bool Null() { return out_.Null(); }
    bool Bool(bool b) { return out_.Bool(b); }
    bool Int(int i) { return out_.Int(i); }
    bool Uint(unsigned i) { return out_.Uint(i); }
    bool Int64(std::int64_t i) { return out_.Int64(i); }
    bool Uint64(std::uint64_t i) { return out_.Uint64(i); }
    bool Double(double d) { return out_.Double(d); }
    bool String(const char* s, rapidjson::SizeType n, bool copy) { return out_.String(s, n, copy); }
    bool StartObject() { return out_.StartObject(); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) { return out_.Key(s, n, copy); }
    bool EndObject(rapidjson::SizeType n) { return out_.EndObject(n); }
    bool StartArray() { return out_.StartArray(); }
    bool EndArray(rapidjson::SizeType n) { return out_.EndArray(n); }

  private:
    rapidjson::Document& out_;
    std::string& problem_;
};

// Whether RapidJSON's SSE2 reader reads `text` as its byte-at-a-time reader does. It stops
// at a NUL (the bounded reader calls a NUL an error), and it lets 0x1A-0x1F through inside
// strings (the other reader refuses them, as JSON does). Neither is in JSON a server writes.
bool fast_reader_agrees(std::string_view text) {
    std::size_t i = 0;
#if defined(__x86_64__)
    const __m128i first = _mm_set1_epi8(0x1A);
    const __m128i span = _mm_set1_epi8(5);
    const __m128i zero = _mm_setzero_si128();
    __m128i odd = zero;
    for (; i + 16 <= text.size(); i += 16) {
        const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
        const __m128i off = _mm_sub_epi8(s, first);  // 0x1A-0x1F: 0-5, unsigned
        odd = _mm_or_si128(odd, _mm_cmpeq_epi8(_mm_min_epu8(off, span), off));
        odd = _mm_or_si128(odd, _mm_cmpeq_epi8(s, zero));
    }
    if (_mm_movemask_epi8(odd) != 0) {
        return false;
    }
#endif
    return std::none_of(text.begin() + static_cast<std::ptrdiff_t>(i), text.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b == 0 || (b >= 0x1A && b <= 0x1F);
    });
}

}  // namespace

std::string parse_json_object(std::string_view text, rapidjson::Document& out) {
    // The default parser recurses once per nesting level: a few MB of "[[[[" overflow the stack.
    constexpr unsigned kFlags =
        rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
    std::string problem;
    rapidjson::ParseResult result;
    // With SSE2 RapidJSON copies strings 16 bytes at a time, but only from a NUL-terminated
    // StringStream, reading whole aligned 16-byte blocks: so it reads a copy of the text with
    // 16 NULs after it (the copy costs far less than copying strings byte by byte: string
    // copies were 15% of watch's CPU with 24 KB values). Where the two readers would not
    // agree, the bounded one reads.
    const bool nul_terminated_copy = fast_reader_agrees(text);
    auto generate = [&](rapidjson::Document& handler) {
        NumberFilter filter(handler, problem);
        // Its stack holds the string being read: up to 16 KiB at once, enough for every string
        // of a text that small, instead of growing from 256 bytes for each parse.
        rapidjson::Reader reader(nullptr, std::min<std::size_t>(text.size() + 1, 16 * 1024));
        if (nul_terminated_copy) {
            std::string padded;
            padded.reserve(text.size() + 16);
            padded.append(text).append(16, '\0');
            rapidjson::StringStream stream(padded.c_str());
            result = reader.Parse<kFlags>(stream, filter);
        } else {
            rapidjson::MemoryStream bytes(text.data(), text.size());
            rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(bytes);
            result = reader.Parse<kFlags>(stream, filter);
        }
        return !result.IsError();
    };
    out.Populate(generate);
    if (!problem.empty()) {
        return problem;
    }
    if (result.IsError()) {
        return fmt::format("not JSON: {} (offset {})", rapidjson::GetParseError_En(result.Code()),
                           result.Offset());
    }
    if (!out.IsObject()) {
        return "not a JSON object";
    }
    return check_document(out);
}

}  // namespace cmsync::kube
