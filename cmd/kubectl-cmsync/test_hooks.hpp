#pragma once

#include <functional>

#include "kube/object.hpp"

namespace cmsync::cli {

/// CMSYNC_TEST_BEFORE_WRITE: a shell command run before each write of `sync` and `watch`, with
/// CMSYNC_TARGET set to NS/NAME. The e2e suite uses it to race another writer against cmsync;
/// unset in real use (then nothing is returned).
std::function<void(const kube::Object&)> before_write_hook_from_environment();

}  // namespace cmsync::cli
