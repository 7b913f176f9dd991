#include "kube/pager.hpp"

#include <fmt/format.h>

#include <cctype>

namespace cmsync::kube {

std::string Pager::query() const {
    auto out = fmt::format("limit={}", limit_);
    if (!continue_.empty()) {
        out += "&continue=" + query_escape(continue_);
    }
    return out;
}

bool Pager::on_page(const std::string& continue_token) {
    ++pages_;
    continue_ = continue_token;
    return !continue_.empty();
}

bool Pager::on_expired() {
    // client-go's pager does not use the inconsistent token a 410 may carry: start over.
    if (continue_.empty() || restarts_ >= max_restarts_) {
        return false;
    }
    ++restarts_;
    pages_ = 0;
    continue_.clear();
    return true;
}

std::string query_escape(const std::string& text) {
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

}  // namespace cmsync::kube
