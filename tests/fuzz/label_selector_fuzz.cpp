// Label selectors (lib/kube/label_selector.*): the input is the selector; a selector that
// parses is matched against a few label sets. The empty set and a set with every key of the
// input split on non-name bytes exercise both sides of each operator.
#include <cctype>
#include <map>
#include <string>

#include "fuzz_check.hpp"
#include "kube/label_selector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = cmsync::fuzz::input_text(data, size);
    const auto selector = cmsync::LabelSelector::parse(text);
    if (!selector) {
        return 0;
    }
    std::map<std::string, std::string> labels;
    std::string word;
    std::string previous;
    for (const char c : text + " ") {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
            c == '/') {
            word += c;
        } else if (!word.empty()) {
            labels.emplace(previous, word);
            previous = std::move(word);
            word.clear();
        }
    }
    selector->matches({});
    selector->matches(labels);
    return 0;
}
