#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cmsync::kube {

/// The largest watch event accepted. etcd stores objects up to 1.5 MiB; their JSON can be six
/// times that when every byte is escaped as \u00XX, plus the event envelope: 16 MiB leaves a
/// margin above any event the API can send, and bounds the memory of one stream.
constexpr std::size_t kMaxWatchEvent = 16 * 1024 * 1024;

/// Splits a watch response body into its JSON objects. The server writes one per line in
/// practice, but chunks may split an object anywhere (even inside a string or an escape), and
/// objects may be concatenated without a newline: this tracks nesting, strings and escapes.
class WatchDecoder {
  public:
    /// Appends `bytes` and returns every object completed by them, in order. Throws Error when
    /// an object grows past kMaxWatchEvent (the stream is then unusable).
    std::vector<std::string> feed(std::string_view bytes);
    /// Bytes of an object not yet complete.
    std::size_t pending() const { return current_.size(); }

  private:
    std::string current_;
    int depth_ = 0;
    bool in_string_ = false;
    bool escaped_ = false;
};

}  // namespace cmsync::kube
