// The watch stream decoder fed one body split where the fuzzer chooses: the split points come
// from the input's tail (FuzzedDataProvider takes integers from the end), the body from its
// head. Whatever the split, the objects must be those of the body fed whole, and each object
// must parse as an event or fail with cmsync::Error.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "error.hpp"
#include "fuzz_check.hpp"
#include "kube/watch_decoder.hpp"
#include "kube/watch_event.hpp"

using cmsync::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider provider(data, size);
    std::vector<std::string> chunks;
    std::string body;
    while (provider.remaining_bytes() > 0) {
        const auto length = provider.ConsumeIntegralInRange<std::size_t>(0, 4096);
        chunks.push_back(provider.ConsumeBytesAsString(length));
        body += chunks.back();
    }
    std::vector<std::string> split_objects;
    cmsync::kube::WatchDecoder split;
    for (const auto& chunk : chunks) {
        for (auto& object : split.feed(chunk)) {
            split_objects.push_back(std::move(object));
        }
    }
    cmsync::kube::WatchDecoder whole;
    const auto whole_objects = whole.feed(body);
    check(split_objects == whole_objects, "objects depend on the chunk split");
    check(split.pending() == whole.pending(), "pending bytes depend on the chunk split");
    for (const auto& object : whole_objects) {
        check(object.front() == '{', "an object that does not start with a brace");
        for (const bool configmaps : {true, false}) {
            try {
                cmsync::kube::parse_watch_event(object,
                                                configmaps ? &cmsync::kube::kConfigMap : nullptr);
            } catch (const cmsync::Error&) {
            }
        }
    }
    return 0;
}
