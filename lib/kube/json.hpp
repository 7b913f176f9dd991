#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace cmsync::kube {

/// Member `key` of `object` when it is a string, else an empty string.
std::string json_string(const rapidjson::Value& object, std::string_view key);
/// Member `key` of `object` when it is an object, else nullptr.
const rapidjson::Value* json_object(const rapidjson::Value& object, std::string_view key);
/// Parses `text`; nullopt-like: returns false when it is not a JSON object.
bool parse_json_object(std::string_view text, rapidjson::Document& out);
/// Compact JSON text of `value`.
std::string to_json(const rapidjson::Value& value);

}  // namespace cmsync::kube
