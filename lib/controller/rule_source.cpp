#include "controller/rule_source.hpp"

#include <fmt/format.h>

#include <thread>

namespace cmsync::controller {

void follow_rules(const RuleSource& source,
                  const std::function<void(const std::vector<Rule>&)>& apply,
                  const std::function<bool()>& halt, const FollowOptions& options) {
    const auto sleep = options.sleep ? options.sleep : [](std::chrono::milliseconds d) {
        std::this_thread::sleep_for(d);
    };
    const auto log = [&](const std::string& line) {
        if (options.log) {
            options.log(line);
        }
    };
    const auto ticks = std::max<long>(1, options.interval / options.tick);
    while (!halt()) {
        for (long i = 0; i < ticks && !halt(); ++i) {
            sleep(options.tick);
        }
        if (!source || halt()) {
            continue;
        }
        const auto update = source();
        if (!update) {
            continue;
        }
        if (!update->errors.empty()) {
            for (const auto& line : update->errors) {
                log(fmt::format("invalid {}, the running rules stay: {}", options.name, line));
            }
            continue;
        }
        log(fmt::format("{} changed: {} rule(s)", options.name, update->rules.size()));
        apply(update->rules);
    }
}

}  // namespace cmsync::controller
