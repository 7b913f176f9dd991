#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cmsync {

/// Why `name` is not a valid namespace (a DNS-1123 label), or nothing when it is.
std::optional<std::string> invalid_namespace(const std::string& name);
/// Why `name` is not a valid name of an object of `kind` ("ConfigMap", "Secret": a DNS-1123
/// subdomain), or nothing.
std::optional<std::string> invalid_object_name(std::string_view kind, const std::string& name);
/// Why `key` is not a valid ConfigMap or Secret key, or nothing.
std::optional<std::string> invalid_key(const std::string& key);
/// Parses a Go-style duration ("0", "30s", "1m30s", "500ms", "2h"); nothing when malformed.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

}  // namespace cmsync
