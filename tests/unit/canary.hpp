#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kube/base64.hpp"
#include "util/sha256.hpp"

namespace cmsync {

/// A Secret value that must never leave the process (issue 27 item 2).
inline constexpr const char* kCanary = "canary-7f3a9e-hunter2";

/// What would give the canary away: itself, a fragment (a 400 decode error quotes 10 bytes of
/// a request body), its base64 (a Secret's wire form) and a fragment of it, and the first hex
/// digits of its sha256 with and without a newline (a ConfigMap's binary summary, the
/// last-synced annotation).
inline std::vector<std::string> canary_forms() {
    const auto b64 = kube::base64_encode(kCanary);
    return {kCanary,
            "7f3a9e",
            b64,
            b64.substr(4, 12),
            sha256_hex(kCanary).substr(0, 12),
            sha256_hex(std::string(kCanary) + "\n").substr(0, 12)};
}

/// Fails the test when `text` holds any form of the canary.
inline void check_no_canary(const std::string& text) {
    CAPTURE(text);
    for (const auto& form : canary_forms()) {
        CAPTURE(form);
        CHECK(text.find(form) == std::string::npos);
    }
}

}  // namespace cmsync
