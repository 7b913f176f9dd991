#include "watch/source_news.hpp"

namespace cmsync {

void SourceNews::queued(const std::string& name, const std::string& resource_version) {
    std::lock_guard guard(mutex_);
    queued_[name] = resource_version;
}

bool SourceNews::moved_on(const std::string& name, const std::string& resource_version) const {
    std::lock_guard guard(mutex_);
    const auto it = queued_.find(name);
    return it != queued_.end() && it->second != resource_version;
}

void SourceNews::forget(const std::string& name) {
    std::lock_guard guard(mutex_);
    queued_.erase(name);
}

}  // namespace cmsync
