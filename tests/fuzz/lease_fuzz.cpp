// Lease JSON (lib/kube/lease.*): a Lease that reads must be written back as the same Lease,
// or leader election would renew a record other than the one it read.
#include "error.hpp"
#include "fuzz_check.hpp"
#include "kube/lease.hpp"

namespace kube = cmsync::kube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    try {
        const auto lease = kube::lease_from_json(text);
        const auto back = kube::lease_from_json(kube::lease_to_json(lease));
        cmsync::fuzz::check(back.record == lease.record, "the Lease record changed on a write");
        cmsync::fuzz::check(back.name == lease.name &&
                                back.namespace_name == lease.namespace_name &&
                                back.resource_version == lease.resource_version,
                            "the Lease metadata changed on a write");
    } catch (const cmsync::Error&) {
    }
    return 0;
}
