#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kube/object.hpp"

namespace cmsync {

/// Why a Secret of `type` is never a source (one namespace's live credentials, Helm's records),
/// or nothing.
std::optional<std::string> refused_source_type(const std::string& type);

/// The type a copy of `source` managing `keys` gets: the source's, unless those keys lack what
/// the API server requires of that type (a `ca.crt`-only copy of a TLS Secret), then Opaque.
/// Empty for a kind without types.
std::string copy_type(const kube::Object& source, const std::vector<std::string>& keys);

/// What the API server would answer to a write of `object` for its type's required keys, in
/// its words ("Secret \"N\" is invalid: data[tls.key]: Required value"), or nothing.
std::optional<std::string> type_problem(const kube::Object& object);

}  // namespace cmsync
