#pragma once

#include <exception>
#include <functional>
#include <string_view>

#include "error.hpp"
#include "http/message.hpp"

namespace cmsync::http {

/// The request could not be completed: connection refused, TLS failure, timeout, ...
class TransportError : public Error {
  public:
    explicit TransportError(const std::string& message, bool transient = false)
        : Error(message), transient_(transient) {}
    /// Whether trying again may help (connection refused or lost, timeout), unlike TLS
    /// verification failures.
    bool transient() const { return transient_; }

  private:
    bool transient_;
};

/// Receives body bytes of a streamed response; returning false stops the stream.
using BodySink = std::function<bool(std::string_view)>;

/// Polled while a stream is open (about once a second, on every chunk, and when the transport
/// is told to wake its streams); true ends it.
using CancelCheck = std::function<bool()>;

/// How an opened stream ended: its response (status and headers; the body when not 2xx), or
/// the error that ended it (TransportError) with an empty response.
using StreamEnded = std::function<void(Response&&, std::exception_ptr)>;

/// The narrow I/O edge of the HTTP layer: tests put a fake behind it.
class Transport {
  public:
    virtual ~Transport() = default;
    /// Sends `request` and returns the whole response; throws TransportError.
    virtual Response send(const Request& request) = 0;
    /// Sends `request` and passes the body to `sink` as it arrives (for watches); the returned
    /// Response has status and headers, and the body only when the status is not 2xx.
    virtual Response stream(const Request& request, const BodySink& sink,
                            const CancelCheck& cancelled) = 0;
    /// stream() without a waiting thread: returns at once; `ended` is called once when the
    /// stream ends. The sink, the cancel check and `ended` run on a thread of the transport's
    /// and must not block it. This default runs stream() on a thread of its own (a fake's).
    virtual void open_stream(const Request& request, BodySink sink, CancelCheck cancelled,
                             StreamEnded ended);
    /// Has every open stream poll its CancelCheck now, not up to a second later: call after
    /// one may have turned true. Returns at once; a transport that polls often needs none.
    virtual void wake_streams() {}
};

}  // namespace cmsync::http
