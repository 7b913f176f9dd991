#pragma once

#include <optional>
#include <string>

#include "kube/object.hpp"

namespace cmsync::kube {

enum class WatchEventType { added, modified, deleted, bookmark, error };

/// One watch event. Bookmarks carry only a resourceVersion; errors carry a Status.
struct WatchEvent {
    WatchEventType type = WatchEventType::bookmark;
    std::string resource_version;  ///< of the object (or bookmark): the stream's new position
    std::optional<Object> object;  ///< object events (namespace events use `name`)
    /// Object events of a watch that reads no kind (rule objects): the object's JSON.
    std::string object_json;
    std::string namespace_name;
    std::string name;
    std::map<std::string, std::string> labels;  ///< of the object (namespace events)
    int error_code = 0;  ///< ERROR: Status.code (410 = the resourceVersion is too old)
    std::string error_reason;
    std::string error_message;
};

/// Parses one event; `kind` says how its object is read (nullptr: it is not, as for namespace
/// events, which keep name and labels only, and `keep_json` its JSON text). Throws Error when
/// the text is not an event.
WatchEvent parse_watch_event(const std::string& json, const Kind* kind, bool keep_json = false);

}  // namespace cmsync::kube
