#pragma once

#include "kube/object.hpp"

namespace cmsync {

/// How the watcher keeps a sensitive kind's values between passes (issue 27 item 6): each
/// value replaced by a digest keyed with a random key of this process, so that the copy cache
/// and the sources it holds can tell equal values from different ones, and nothing more. A
/// sealed digest never leaves the process, and another process (or a run after a restart)
/// cannot compare with it. Plans made from sealed objects are only good for deciding that
/// nothing is to be written; a write is planned again from values read afresh.
kube::Value seal(const kube::Value& value);

/// `object` with every value sealed (as it is, when already sealed).
kube::Object sealed(kube::Object object);

}  // namespace cmsync
