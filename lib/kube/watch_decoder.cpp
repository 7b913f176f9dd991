#include "kube/watch_decoder.hpp"

#include <fmt/format.h>

#include "error.hpp"

namespace cmsync::kube {

std::vector<std::string> WatchDecoder::feed(std::string_view bytes) {
    std::vector<std::string> out;
    for (const char c : bytes) {
        if (depth_ == 0) {
            if (c != '{') {
                continue;  // whitespace (or junk) between objects
            }
            current_.clear();
        }
        if (current_.size() == kMaxWatchEvent) {
            throw Error(fmt::format("a watch event is larger than {} MiB", kMaxWatchEvent >> 20));
        }
        current_ += c;
        if (in_string_) {
            if (escaped_) {
                escaped_ = false;
            } else if (c == '\\') {
                escaped_ = true;
            } else if (c == '"') {
                in_string_ = false;
            }
            continue;
        }
        if (c == '"') {
            in_string_ = true;
        } else if (c == '{' || c == '[') {
            ++depth_;
        } else if (c == '}' || c == ']') {
            if (--depth_ == 0) {
                out.push_back(std::move(current_));
                current_.clear();
            }
        }
    }
    return out;
}

}  // namespace cmsync::kube
