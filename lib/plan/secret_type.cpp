// The Secret type rules the API server enforces (ValidateSecret in kubernetes'
// pkg/apis/core/validation): which keys each type must hold.
#include "plan/secret_type.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cmsync {

namespace {

// One rule of a type: these keys must be there (`any`: one of them is enough; `non_empty`: with
// a value).
struct Required {
    std::vector<std::string> keys;
    bool any = false;
    bool non_empty = false;
};

std::optional<Required> required_of(const std::string& type) {
    if (type == "kubernetes.io/tls") {
        return Required{{"tls.crt", "tls.key"}};
    }
    if (type == "kubernetes.io/dockerconfigjson") {
        return Required{{".dockerconfigjson"}};
    }
    if (type == "kubernetes.io/dockercfg") {
        return Required{{".dockercfg"}};
    }
    if (type == "kubernetes.io/basic-auth") {
        return Required{{"username", "password"}, true};
    }
    if (type == "kubernetes.io/ssh-auth") {
        return Required{{"ssh-privatekey"}, false, true};
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> refused_source_type(const std::string& type) {
    if (type == "kubernetes.io/service-account-token") {
        return "a service account token is one namespace's live credential";
    }
    if (type == "bootstrap.kubernetes.io/token") {
        return "a bootstrap token lets a node join the cluster";
    }
    if (type == "helm.sh/release.v1") {
        return "it is Helm's record of a release";
    }
    return std::nullopt;
}

std::string copy_type(const kube::Object& source, const std::vector<std::string>& keys) {
    const auto required = required_of(source.type);
    if (!required) {
        return source.type;
    }
    const auto managed_with_value = [&](const std::string& key) {
        const auto it = source.data.find(key);
        return std::find(keys.begin(), keys.end(), key) != keys.end() && it != source.data.end() &&
               (!required->non_empty || !it->second.bytes.empty());
    };
    const auto& k = required->keys;
    const bool ok = required->any ? std::any_of(k.begin(), k.end(), managed_with_value)
                                  : std::all_of(k.begin(), k.end(), managed_with_value);
    return ok ? source.type : "Opaque";
}

std::optional<std::string> type_problem(const kube::Object& object) {
    const auto required = required_of(object.type);
    if (!object.kind.sensitive || !required) {
        return std::nullopt;
    }
    std::vector<std::string> causes;
    bool any_present = false;
    for (const auto& key : required->keys) {
        const auto it = object.data.find(key);
        if (it == object.data.end() || (required->non_empty && it->second.bytes.empty())) {
            causes.push_back(fmt::format("data[{}]: Required value", key));
        } else {
            any_present = true;
        }
    }
    if (causes.empty() || (required->any && any_present)) {
        return std::nullopt;
    }
    const auto listed =
        causes.size() == 1 ? causes.front() : fmt::format("[{}]", fmt::join(causes, ", "));
    return fmt::format("{} \"{}\" is invalid: {}", object.kind.name, object.name, listed);
}

}  // namespace cmsync
