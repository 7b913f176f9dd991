#include "test_hooks.hpp"

#include <cstdlib>
#include <iostream>
#include <string>

namespace cmsync::cli {

std::function<void(const kube::Object&)> before_write_hook_from_environment() {
    const char* hook = std::getenv("CMSYNC_TEST_BEFORE_WRITE");
    if (hook == nullptr || *hook == '\0') {
        return {};
    }
    const std::string command = hook;
    return [command](const kube::Object& cm) {
        const auto line = "CMSYNC_TARGET='" + cm.namespace_name + "/" + cm.name + "' " + command;
        if (std::system(line.c_str()) != 0) {
            std::cerr << "warning: CMSYNC_TEST_BEFORE_WRITE failed\n";
        }
    };
}

}  // namespace cmsync::cli
