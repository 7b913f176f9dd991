#pragma once

#include <stdexcept>
#include <string>

namespace cmsync {

/// A failure that stops the current operation; its message is one line for the user.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A mistake in how the command was called; detected before any request is sent (exit 2).
class UsageError : public Error {
  public:
    using Error::Error;
};

/// The API server answered with an error Status (or an error body that is not JSON).
class ApiError : public Error {
  public:
    ApiError(int code, std::string reason, const std::string& message)
        : Error(message), code_(code), reason_(std::move(reason)) {}
    /// The HTTP status code (Status.code).
    int code() const { return code_; }
    /// The Status reason, e.g. "NotFound", "Conflict", "Expired"; empty when unknown.
    const std::string& reason() const { return reason_; }

  private:
    int code_;
    std::string reason_;
};

}  // namespace cmsync
