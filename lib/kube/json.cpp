#include "kube/json.hpp"

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

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
// member would survive a read-modify-write as a stale copy (lookups see only the first), and a
// number beyond double range reads as infinity, which no JSON can say.
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
        std::string problem;
        const auto visit = [&](const rapidjson::Value& child) {
            if (child.IsObject() || child.IsArray()) {
                containers.emplace_back(&child, depth + 1);
            } else if (child.IsDouble() && !std::isfinite(child.GetDouble())) {
                problem = "JSON with a number out of range";
            }
        };
        if (value->IsObject()) {
            problem = duplicate_member(*value);
            for (const auto& m : value->GetObject()) {
                visit(m.value);
            }
        } else {
            for (const auto& v : value->GetArray()) {
                visit(v);
            }
        }
        if (!problem.empty()) {
            return problem;
        }
    }
    return {};
}

// RapidJSON 1.1's full-precision path has undefined behaviour on numbers whose decimal exponent
// (exponent less fraction digits) is extreme (found by fuzzing, issue 17): a zero beyond its
// fast path (+-22: "0e300") takes __builtin_clzll(0), then exponents overflow and shifts pass
// 64 bits; below about -340 ("0.000...0001" with 600 zeros) its table of cached powers is
// indexed out of bounds (above +308 it reports "Number too big" itself). The API server writes
// neither (Go's shortest form); refusing them is simpler than a result nobody can vouch for.
bool has_unreadable_number(std::string_view text) {
    const auto digit = [&](std::size_t i) {
        return i < text.size() && text[i] >= '0' && text[i] <= '9';
    };
    bool in_string = false;
    bool escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
            continue;
        }
        if (!digit(i)) {
            continue;
        }
        bool zero = true;
        long long exponent = 0;
        for (; digit(i); ++i) {
            zero = zero && text[i] == '0';
        }
        if (i < text.size() && text[i] == '.') {
            for (++i; digit(i); ++i) {
                zero = zero && text[i] == '0';
                exponent = std::max(exponent - 1, -1'000'000LL);
            }
        }
        if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
            ++i;
            const bool negative = i < text.size() && text[i] == '-';
            i += i < text.size() && (text[i] == '-' || text[i] == '+') ? 1 : 0;
            long long value = 0;
            for (; digit(i); ++i) {
                value = std::min(value * 10 + (text[i] - '0'), 1'000'000LL);
            }
            exponent += negative ? -value : value;
        }
        if ((zero && (exponent > 22 || exponent < -22)) || exponent < -340) {
            return true;
        }
        --i;  // the loop's ++i reads the character after the number
    }
    return false;
}

}  // namespace

std::string json_string(const rapidjson::Value& object, std::string_view key) {
    if (!object.IsObject()) {
        return {};
    }
    const auto it = object.FindMember(
        rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
    if (it == object.MemberEnd() || !it->value.IsString()) {
        return {};
    }
    return {it->value.GetString(), it->value.GetStringLength()};
}

const rapidjson::Value* json_object(const rapidjson::Value& object, std::string_view key) {
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto it = object.FindMember(
        rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
    if (it == object.MemberEnd() || !it->value.IsObject()) {
        return nullptr;
    }
    return &it->value;
}

std::string parse_json_object(std::string_view text, rapidjson::Document& out) {
    // The default parser recurses once per nesting level: a few MB of "[[[[" overflow the stack.
    // Full precision: a double written back is the double that was read.
    if (has_unreadable_number(text)) {
        return "JSON with a number whose decimal exponent is out of range";
    }
    out.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag>(text.data(),
                                                                                   text.size());
    if (out.HasParseError()) {
        return fmt::format("not JSON: {} (offset {})",
                           rapidjson::GetParseError_En(out.GetParseError()), out.GetErrorOffset());
    }
    if (!out.IsObject()) {
        return "not a JSON object";
    }
    return check_document(out);
}

std::string to_json(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace cmsync::kube
