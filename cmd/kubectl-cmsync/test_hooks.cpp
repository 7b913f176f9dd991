// Linked only into tests/e2e's kubectl-cmsync-faults (see test_hooks.hpp), never into the
// shipped binary: tests/e2e/release_test.sh checks that one imports no system() and holds none
// of these names.
#include "test_hooks.hpp"

#include <cstdlib>
#include <string>

#include "process_log.hpp"

namespace cmsync::cli {

namespace {

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? "" : value;
}

}  // namespace

// CMSYNC_TEST_BEFORE_WRITE: a shell command run with CMSYNC_TARGET=NS/NAME set, between
// cmsync's read of a copy and its write (watch_test.sh, sync_test.sh: another writer changes
// or deletes the copy there).
std::function<void(const kube::Object&)> test_before_write_hook() {
    const auto command = environment("CMSYNC_TEST_BEFORE_WRITE");
    if (command.empty()) {
        return {};
    }
    return [command](const kube::Object& cm) {
        const auto line = "CMSYNC_TARGET='" + cm.namespace_name + "/" + cm.name + "' " + command;
        if (std::system(line.c_str()) != 0) {
            process_log().warning("CMSYNC_TEST_BEFORE_WRITE failed");
        }
    };
}

// CMSYNC_TEST_AFTER_PAGE: a shell command run after each page of resync's copy list, before the
// next is asked for (resync_test.sh: a write and an etcd compaction expire the continue token).
std::function<void()> test_after_page_hook() {
    const auto command = environment("CMSYNC_TEST_AFTER_PAGE");
    if (command.empty()) {
        return {};
    }
    return [command] {
        if (std::system(command.c_str()) != 0) {
            process_log().warning("CMSYNC_TEST_AFTER_PAGE failed");
        }
    };
}

}  // namespace cmsync::cli
