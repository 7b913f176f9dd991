#pragma once

#include <atomic>
#include <chrono>

#include "http/transport.hpp"

namespace cmsync::cli {

/// Makes SIGINT and SIGTERM set stop_requested() instead of ending the process.
void install_stop_signals();

/// Whether SIGINT or SIGTERM arrived since install_stop_signals().
const std::atomic<bool>& stop_requested();

/// A transport cancel check that turns true `grace` after a stop signal is first seen (it is
/// polled about once a second): requests in flight, writes included, may finish, but no
/// server that never answers holds the process longer.
http::CancelCheck cancel_after_stop(std::chrono::milliseconds grace);

}  // namespace cmsync::cli
