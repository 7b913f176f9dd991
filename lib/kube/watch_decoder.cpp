#include "kube/watch_decoder.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "error.hpp"

namespace cmsync::kube {

namespace {

std::size_t next_quote_or_backslash(std::string_view bytes, std::size_t from) {
    const auto quote = std::min(bytes.find('"', from), bytes.size());
    return std::min(bytes.substr(0, quote).find('\\', from), quote);
}

}  // namespace

std::vector<std::string> WatchDecoder::feed(std::string_view bytes) {
    std::vector<std::string> out;
    // Bytes go to current_ a run at a time: from the start of `bytes` (or of an object) to
    // the end of `bytes` (or of that object), never one by one.
    std::size_t run = 0;
    const auto take = [&](std::size_t end) {
        const auto room = kMaxWatchEvent - current_.size();
        current_.append(bytes.substr(run, std::min(end - run, room)));
        if (end - run > room) {
            throw Error(fmt::format("a watch event is larger than {} MiB", kMaxWatchEvent >> 20));
        }
    };
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (depth_ == 0) {
            if (c != '{') {
                continue;  // whitespace (or junk) between objects
            }
            current_.clear();
            run = i;
        }
        if (in_string_) {
            if (escaped_) {
                escaped_ = false;
                continue;
            }
            // Inside a string only a quote or a backslash matters: jump to the next one
            // (memchr, not a byte at a time: long values were 8% of watch's CPU here).
            i = next_quote_or_backslash(bytes, i);
            if (i == bytes.size()) {
                break;
            }
            if (bytes[i] == '\\') {
                escaped_ = true;
            } else {
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
                take(i + 1);
                out.push_back(std::move(current_));
                current_.clear();
            }
        }
    }
    if (depth_ > 0) {
        take(bytes.size());
    }
    return out;
}

}  // namespace cmsync::kube
