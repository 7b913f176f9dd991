#pragma once

#include <rapidjson/fwd.h>

#include <map>
#include <string>

namespace cmsync::kube {

/// A ConfigMap value: `data` (UTF-8 text) and `binaryData` share one key space.
struct Value {
    std::string bytes;  ///< decoded bytes
    bool binary = false;
    bool operator==(const Value&) const = default;
};

struct ConfigMap {
    std::string namespace_name;
    std::string name;
    std::string resource_version;
    std::string uid;  ///< read from the server; never sent (the raw object keeps it)
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> annotations;
    std::map<std::string, Value> data;
    bool immutable = false;
    /// The object as the server sent it, less data, binaryData and managedFields; updates
    /// start from it so fields cmsync does not know (finalizers, owner references, ...)
    /// survive. Empty for objects built here.
    std::string raw;
};

/// Parses a ConfigMap JSON object; throws Error when it is not one.
ConfigMap configmap_from_json(const std::string& json, bool keep_raw);
/// The same from an object already parsed (a watch event's, a list's item), sparing a second
/// parse. With `keep_raw`, `object` loses data, binaryData and managedFields (see `raw`).
ConfigMap configmap_from_value(rapidjson::Value& object, bool keep_raw);

/// The JSON to send for `cm`: starts from `cm.raw` (when set) and replaces name, namespace,
/// resourceVersion, labels, annotations, data, binaryData and immutable.
std::string configmap_to_json(const ConfigMap& cm);

/// The size the API server counts against its 1 MiB limit: all keys' decoded value bytes.
std::size_t configmap_data_size(const ConfigMap& cm);

}  // namespace cmsync::kube
