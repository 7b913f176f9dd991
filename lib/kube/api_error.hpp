#pragma once

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
    /// e.g. `get configmaps "x" in namespace "a"`.
    std::string describe() const;
};

/// Turns an error response into an ApiError with a one-line message naming the operation;
/// a body that is not a Status (such as the plain-text 429) is quoted as text.
ApiError api_error(const Operation& op, const http::Response& response);

}  // namespace cmsync::kube
