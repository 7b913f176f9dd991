#include "kube/kind.hpp"

#include <fmt/format.h>

#include "kube/pager.hpp"

namespace cmsync::kube {

std::optional<Kind> kind_named(std::string_view word) {
    if (word == "configmap" || word == "configmaps" || word == "cm" || word == "ConfigMap") {
        return kConfigMap;
    }
    if (word == "secret" || word == "secrets" || word == "Secret") {
        return kSecret;
    }
    return std::nullopt;
}

std::string objects_path(const Kind& kind, const std::string& ns) {
    return ns.empty() ? fmt::format("/api/v1/{}", kind.resource)
                      : fmt::format("/api/v1/namespaces/{}/{}", query_escape(ns), kind.resource);
}

}  // namespace cmsync::kube
