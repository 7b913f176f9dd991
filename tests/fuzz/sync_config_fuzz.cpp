// The rules file (lib/rules/sync_config.*): every problem is a line in ParsedRules::errors,
// never an exception; the rules that parse go through the cross-rule checks.
#include "fuzz_check.hpp"
#include "rules/sync_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    const auto parsed = cmsync::parse_sync_config(text, "rules.yaml");
    for (const auto& rule : parsed.rules) {
        cmsync::rule_fingerprint(rule);
    }
    cmsync::check_rules(parsed.rules);
    return 0;
}
