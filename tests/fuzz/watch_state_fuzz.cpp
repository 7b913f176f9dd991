// The --state-file (lib/watch/watch_state.*): a state that reads must be written back as the
// same state.
#include "error.hpp"
#include "fuzz_check.hpp"
#include "watch/watch_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    try {
        const auto state = cmsync::parse_watch_state(text, "/state.json");
        cmsync::fuzz::check(
            cmsync::parse_watch_state(cmsync::format_watch_state(state), "/state.json") == state,
            "the state changed on a write");
    } catch (const cmsync::Error&) {
    }
    return 0;
}
