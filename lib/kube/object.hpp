#pragma once

#include <rapidjson/fwd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "kube/kind.hpp"

namespace cmsync::kube {

/// The field manager cmsync writes as (`fieldManager` of every write): managedFields name it as
/// the last to change the fields it wrote.
inline constexpr const char* kFieldManager = "kubectl-cmsync";

/// One value of an object's data: a ConfigMap's `data` (UTF-8 text) and `binaryData` share one
/// key space; a Secret's values are bytes.
struct Value {
    std::string bytes;  ///< decoded bytes
    bool binary = false;
    bool operator==(const Value&) const = default;
};

/// Names an object of a known kind: "NS/NAME" where one string is needed.
struct ObjectRef {
    std::string namespace_name;
    std::string name;
    /// "NS/NAME".
    std::string str() const { return namespace_name + "/" + name; }
    bool empty() const { return namespace_name.empty() && name.empty(); }
    auto operator<=>(const ObjectRef&) const = default;
};

/// A ConfigMap or a Secret, as cmsync reads and writes it.
struct Object {
    Kind kind = kConfigMap;
    std::string namespace_name;
    std::string name;
    std::string resource_version;
    std::string uid;  ///< read from the server; never sent (the raw object keeps it)
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> annotations;
    std::map<std::string, Value> data;
    std::string type;  ///< a Secret's type ("Opaque", "kubernetes.io/tls", ...); empty otherwise
    bool immutable = false;
    /// The values are the watcher's keyed digests, not values (watch/sealed.hpp): never sent.
    bool sealed = false;
    /// Sensitive kinds only: the data keys whose present value cmsync's field manager set, as
    /// the server's managedFields say (someone who changes a value since takes the key over).
    /// Sorted, without repeats (a vector: every object carries it, most of them empty).
    std::vector<std::string> owned_keys;
    bool owns(const std::string& key) const {
        return std::binary_search(owned_keys.begin(), owned_keys.end(), key);
    }
    /// The object as the server sent it, less its data (and, but for a sensitive kind, its
    /// managedFields); updates start from it so fields cmsync does not know (finalizers, owner
    /// references, ...) survive. Empty for objects built here.
    std::string raw;
    ObjectRef ref() const { return {namespace_name, name}; }
};

/// Parses an object of `kind` from JSON; throws Error when it is not one.
Object object_from_json(const Kind& kind, const std::string& json, bool keep_raw);
/// The same from an object already parsed (a watch event's, a list's item), sparing a second
/// parse. With `keep_raw`, `object` loses its data and managedFields (see `raw`).
Object object_from_value(const Kind& kind, rapidjson::Value& object, bool keep_raw);

/// The JSON to send for `object`: starts from `object.raw` (when set) and replaces name,
/// namespace, resourceVersion, labels, annotations, the data, type and immutable.
std::string object_to_json(const Object& object);

/// The size the API server counts against its 1 MiB limit: all keys' decoded value bytes.
std::size_t object_data_size(const Object& object);

}  // namespace cmsync::kube
