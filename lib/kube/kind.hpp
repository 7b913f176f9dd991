#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cmsync::kube {

/// A kind cmsync syncs: data, not a class. Only the codec (kube/object.cpp) and the API path
/// differ per kind; merge, plan, watch and reports treat every kind alike.
struct Kind {
    std::string_view name;      ///< "ConfigMap": the object's `kind`
    std::string_view resource;  ///< "configmaps": the API resource (paths, RBAC, errors)
    /// Values never leave the process (reports, diffs, logs, Events show keys and sizes only).
    bool sensitive = false;
    bool operator==(const Kind& other) const { return name == other.name; }
};

inline constexpr Kind kConfigMap{"ConfigMap", "configmaps", false};
inline constexpr Kind kSecret{"Secret", "secrets", true};

/// The kind a user names on the command line or in a rules file: "configmap" (or "cm",
/// "configmaps", "ConfigMap"), "secret" (or "secrets", "Secret"); nothing for another word.
std::optional<Kind> kind_named(std::string_view word);

/// "/api/v1/namespaces/NS/RESOURCE", or "/api/v1/RESOURCE" for all namespaces (`ns` empty).
std::string objects_path(const Kind& kind, const std::string& ns);

}  // namespace cmsync::kube
