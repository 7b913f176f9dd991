#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cmsync::kube {

/// What of a body sent to or received from `url` may be logged (-v 8): unchanged for kinds
/// whose values are not sensitive (ConfigMaps); for a sensitive kind (Secrets), the object, a
/// list's items or a watch event's object with every value of data and stringData, and of the
/// annotations named in `derived` (what is computed from the values, such as their hashes)
/// and of kubectl's last-applied-configuration (a copy of the object), replaced by "***"
/// (keys stay, as `kubectl diff` shows them); an error Status (an answer, or a watch's ERROR
/// event) with its message and its causes' messages masked, fields and reasons kept. A body
/// of such a kind that is not JSON is withheld whole.
std::string redact_body_for_log(const std::string& url, const std::string& body,
                                const std::vector<std::string_view>& derived);

}  // namespace cmsync::kube
