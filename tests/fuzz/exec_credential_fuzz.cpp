// An exec credential plugin's stdout (lib/kube/exec_credential.*), with and without an
// expected apiVersion, and its expirationTimestamp parser on the raw input.
#include "error.hpp"
#include "fuzz_check.hpp"
#include "kube/exec_credential.hpp"

namespace kube = cmsync::kube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    kube::ExecConfig exec;
    exec.command = "plugin";
    for (const char* api_version : {"", "client.authentication.k8s.io/v1"}) {
        exec.api_version = api_version;
        try {
            const auto credential = kube::parse_exec_credential(text, exec);
            cmsync::fuzz::check(
                !credential.token.empty() || (!credential.client_certificate_pem.empty() &&
                                              !credential.client_key_pem.empty()),
                "a credential without token or client certificate");
        } catch (const cmsync::Error&) {
        }
    }
    kube::parse_rfc3339(text);
    return 0;
}
