#pragma once

#include <rapidjson/document.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace cmsync::kube {

/// Deeper nesting is refused. The objects cmsync reads nest under 20 levels, and writing a
/// document (to_json) recurses once per level: a bound keeps that within any thread's stack.
constexpr int kMaxJsonDepth = 128;

namespace detail {
struct PoolOwner {
    explicit PoolOwner(std::size_t chunk) : pool(chunk) {}
    rapidjson::MemoryPoolAllocator<> pool;
};
}  // namespace detail

/// A Document for one object of about `text_size` bytes of JSON: its memory pool takes
/// chunks of that size and a half, not rapidjson's 64 KiB. glibc consolidates its free lists on
/// every free of 64 KiB or more, and the watcher parses three objects per copy it writes (malloc
/// and free were a fifth of its CPU in a pass of 10,000 copies).
class SizedDocument : private detail::PoolOwner, public rapidjson::Document {
  public:
    explicit SizedDocument(std::size_t text_size)
        : PoolOwner(std::max<std::size_t>(1024, text_size + text_size / 2)),
          rapidjson::Document(&pool) {}
    SizedDocument(const SizedDocument&) = delete;
    SizedDocument& operator=(const SizedDocument&) = delete;
};

/// Member `key` of `object` when it is a string, else an empty string.
std::string json_string(const rapidjson::Value& object, std::string_view key);
/// Member `key` of `object` when it is an object, else nullptr.
const rapidjson::Value* json_object(const rapidjson::Value& object, std::string_view key);
/// Parses `text` into `out` without recursion, so no input can exhaust the stack. Every JSON
/// cmsync reads comes in here. Returns an empty string when `text` is a JSON object no deeper
/// than kMaxJsonDepth, with no duplicate member and no number beyond double range (so that it
/// is written back as read), else what is wrong with it ("not a JSON object", ...).
std::string parse_json_object(std::string_view text, rapidjson::Document& out);
/// Compact JSON text of `value`.
std::string to_json(const rapidjson::Value& value);

}  // namespace cmsync::kube
