#pragma once

#include <functional>

#include "kube/object.hpp"

namespace cmsync::cli {

// Fault injection for the e2e suite, chosen at link time (issue 26: the shipped binary must have
// no way to run a command named by its environment). kubectl-cmsync links no_test_hooks.cpp,
// where both are empty; only tests/e2e's kubectl-cmsync-faults, never installed or released,
// links test_hooks.cpp, which runs the shell commands of CMSYNC_TEST_BEFORE_WRITE and
// CMSYNC_TEST_AFTER_PAGE to race another writer and to expire a continue token.

/// What to run before each write of `sync` and `watch`; empty in the shipped binary.
std::function<void(const kube::Object&)> test_before_write_hook();

/// What to run after each page of resync's copy list; empty in the shipped binary.
std::function<void()> test_after_page_hook();

}  // namespace cmsync::cli
