#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cmsync::kube {

/// Splits a watch response body into its JSON objects. The server writes one per line in
/// practice, but chunks may split an object anywhere (even inside a string or an escape), and
/// objects may be concatenated without a newline: this tracks nesting, strings and escapes.
class WatchDecoder {
  public:
    /// Appends `bytes` and returns every object completed by them, in order.
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
