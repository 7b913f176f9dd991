#include "test_hooks.hpp"

namespace cmsync::cli {

std::function<void(const kube::Object&)> test_before_write_hook() {
    return {};
}

std::function<void()> test_after_page_hook() {
    return {};
}

}  // namespace cmsync::cli
