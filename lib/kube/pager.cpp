#include "kube/pager.hpp"

#include <fmt/format.h>

#include <cctype>

#include "error.hpp"

namespace cmsync::kube {

std::string Pager::query() const {
    auto out = fmt::format("limit={}", limit_);
    if (!continue_.empty()) {
        out += "&continue=" + query_escape(continue_);
    }
    return out;
}

bool Pager::on_page(const std::string& continue_token, std::size_t items,
                    std::optional<std::int64_t> remaining) {
    ++pages_;
    items_ += items;
    if (pages_ == 1 && remaining && *remaining >= 0) {
        announced_ = items + static_cast<std::uint64_t>(*remaining);
    }
    if (announced_ && items_ > 2 * *announced_ + static_cast<std::uint64_t>(limit_)) {
        throw Error(fmt::format("the server keeps paging: {} objects so far, {} announced", items_,
                                *announced_));
    }
    if (pages_ > kMaxPages) {
        throw Error(fmt::format("the server keeps paging: more than {} pages", kMaxPages));
    }
    if (!continue_token.empty() && !seen_.insert(continue_token).second) {
        throw Error(
            fmt::format("the server keeps paging: continue token repeated after {} pages", pages_));
    }
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
    seen_.clear();
    items_ = 0;
    announced_.reset();
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
