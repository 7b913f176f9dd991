#pragma once

#include <rapidjson/fwd.h>

#include <string>

#include "error.hpp"
#include "http/message.hpp"

namespace cmsync::kube {

/// What a request was doing, for error messages: "list configmaps in namespace \"a\"".
struct Operation {
    std::string verb;            ///< get, list, watch, create, update, delete
    std::string resource;        ///< configmaps, namespaces
    std::string name;            ///< empty for collections
    std::string namespace_name;  ///< empty for cluster scope
    /// Of a kind whose values never leave the process (Secrets): the server's free text is
    /// not repeated (see api_error).
    bool sensitive = false;
    /// e.g. `get configmaps "x" in namespace "a"`.
    std::string describe() const;
};

/// Turns an error response into an ApiError with a one-line message naming the operation;
/// a body that is not a Status (such as the plain-text 429) is quoted as text. For a
/// sensitive operation no free text of the answer is repeated (see status_message).
ApiError api_error(const Operation& op, const http::Response& response);

/// What of an error Status (`status`, the parsed object) may be shown: its `message`; for a
/// sensitive kind, only what the server builds from names, never from values. Validation
/// errors echo values (`Invalid value: "..."`), 400 decode errors quote bytes of the request
/// body, and webhook or ValidatingAdmissionPolicy denials carry text their authors wrote. So
/// the message is rebuilt from `details.causes` as the API server words field errors
/// (`Secret "N" is invalid: data[tls.key]: Required value`), each cause's field and reason
/// type only, plus the few details known to hold no value (`field is immutable`, a size
/// limit); with no causes, it says a message was withheld.
std::string status_message(const rapidjson::Value& status, bool sensitive);

}  // namespace cmsync::kube
