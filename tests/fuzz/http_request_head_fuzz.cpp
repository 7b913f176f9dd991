// One health-server request head (lib/controller/http_request_head.*), parsed whole and fed
// byte by byte as a connection receives it, with a large and a small size limit.
#include "controller/http_request_head.hpp"
#include "fuzz_check.hpp"

using cmsync::controller::HeadParse;
using cmsync::controller::parse_request_head;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    for (const std::size_t max : {std::size_t{16 * 1024}, std::size_t{64}}) {
        const auto whole = parse_request_head(text, max);
        HeadParse fed;
        for (std::size_t n = 1; n <= text.size(); ++n) {
            fed = parse_request_head(std::string_view(text).substr(0, n), max, fed.size);
            if (fed.outcome != HeadParse::Outcome::incomplete) {
                break;
            }
        }
        cmsync::fuzz::check(
            fed.outcome == whole.outcome && fed.status == whole.status && fed.why == whole.why,
            "the same outcome fed byte by byte as whole");
        if (whole.outcome == HeadParse::Outcome::complete) {
            const auto& h = whole.head;
            cmsync::fuzz::check(
                fed.size == whole.size && fed.head.method == h.method && fed.head.path == h.path &&
                    fed.head.keep_alive == h.keep_alive && fed.head.has_body == h.has_body,
                "the same head fed byte by byte as whole");
            cmsync::fuzz::check(whole.size <= max && whole.size <= text.size(),
                                "a head within the limit and the input");
            cmsync::fuzz::check(h.path == "*" || (!h.path.empty() && h.path.front() == '/'),
                                "a path starts with a slash");
            cmsync::fuzz::check(!(h.has_body && h.keep_alive), "a body closes the connection");
        } else if (whole.outcome == HeadParse::Outcome::incomplete) {
            cmsync::fuzz::check(text.size() <= max, "more than the limit is never incomplete");
        }
    }
    return 0;
}
