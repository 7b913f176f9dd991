#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace cmsync::kube {

/// Deeper nesting is refused. The objects cmsync reads nest under 20 levels, and writing a
/// document (to_json) recurses once per level: a bound keeps that within any thread's stack.
constexpr int kMaxJsonDepth = 128;

/// Member `key` of `object` when it is a string, else an empty string.
std::string json_string(const rapidjson::Value& object, std::string_view key);
/// Member `key` of `object` when it is an object, else nullptr.
const rapidjson::Value* json_object(const rapidjson::Value& object, std::string_view key);
/// Parses `text` into `out` without recursion, so no input can exhaust the stack. Every JSON
/// cmsync reads comes in here. Returns an empty string when `text` is a JSON object no deeper
/// than kMaxJsonDepth, with no duplicate member and no number beyond double range (so that it
/// is written back as read), else what is wrong with it ("not a JSON object", ...).
std::string parse_json_object(std::string_view text, rapidjson::Document& out);
/// Compact JSON text of `value`.
std::string to_json(const rapidjson::Value& value);

}  // namespace cmsync::kube
