#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cmsync::kube {

/// Standard base64 with padding, as Kubernetes uses for binaryData and *-data fields.
std::string base64_encode(std::string_view bytes);
/// The decoded bytes, or nothing when `text` is not valid padded base64 (newlines ignored).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace cmsync::kube
