#include "controller/rule_watchers.hpp"

#include <fmt/format.h>

#include "error.hpp"

#include <algorithm>
#include <chrono>
#include <map>

namespace cmsync {

namespace {

// A rule that cannot start (its source namespace forbidden, the server away) tries again
// after this long; the other rules are not held up.
constexpr std::chrono::seconds kRetryAfter{30};

}  // namespace

RuleWatchers::RuleWatchers(kube::ApiClient& api, WatchConfig base, ActionSink on_action,
                           LogSink log, OnFailure on_failure)
    : api_(api),
      base_(std::move(base)),
      on_action_(std::move(on_action)),
      log_(std::move(log)),
      on_failure_(on_failure) {}

RuleWatchers::~RuleWatchers() {
    stop_all();
}

WatchConfig RuleWatchers::config_for(const Rule& rule) const {
    auto config = base_;
    config.spec = rule.spec;
    config.write.keys = rule.spec.keys;
    if (!base_.state_file.empty() && !rule.name.empty()) {
        // A SyncRule's name is "NS/NAME": "NS.NAME" beside the file (neither part has a dot).
        auto suffix = rule.name;
        std::replace(suffix.begin(), suffix.end(), '/', '.');
        config.state_file = base_.state_file + "." + suffix;
    }
    return config;
}

void RuleWatchers::log(const Rule& rule, const std::string& line) const {
    log_(rule.name.empty() ? line : fmt::format("rule {}: {}", rule.name, line));
}

void RuleWatchers::run(Running& r) {
    const auto name = r.rule.name;
    const auto log = [this, &r](const std::string& line) { this->log(r.rule, line); };
    while (!r.stop) {
        try {
            Watcher watcher(
                api_, config_for(r.rule),
                [this, name](const WatchAction& action) { on_action_(name, action); }, log);
            {
                std::lock_guard guard(mutex_);
                r.watcher = &watcher;
                r.since = std::chrono::steady_clock::now();
                r.failure.clear();
                r.failure_code = 0;
            }
            struct Unpublish {
                RuleWatchers& self;
                Running& r;
                ~Unpublish() {
                    std::lock_guard guard(self.mutex_);
                    r.watcher = nullptr;
                }
            } unpublish{*this, r};
            watcher.run(r.stop);
            return;
        } catch (const std::exception& e) {
            {
                std::lock_guard guard(mutex_);
                r.failed = true;
                r.failure = e.what();
                const auto* api_error = dynamic_cast<const ApiError*>(&e);
                r.failure_code = api_error != nullptr ? api_error->code() : 0;
                if (on_failure_ == OnFailure::stop) {
                    if (!failure_) {
                        failure_ = std::current_exception();
                    }
                    return;
                }
            }
            log(fmt::format("cannot watch: {}; again in {} s (the other rules go on)", e.what(),
                            kRetryAfter.count()));
        }
        const auto until = std::chrono::steady_clock::now() + kRetryAfter;
        while (!r.stop && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

void RuleWatchers::apply(const std::vector<Rule>& rules) {
    std::map<std::string, const Rule*> wanted;
    for (const auto& rule : rules) {
        wanted.emplace(rule_fingerprint(rule), &rule);
    }
    std::list<std::unique_ptr<Running>> stopping;
    {
        std::lock_guard guard(mutex_);
        for (auto it = rules_.begin(); it != rules_.end();) {
            if (wanted.erase((*it)->fingerprint) != 0) {
                ++it;  // unchanged: keeps running
                continue;
            }
            stopping.push_back(std::move(*it));
            it = rules_.erase(it);
        }
    }
    for (auto& r : stopping) {
        r->stop = true;
    }
    for (auto& r : stopping) {
        r->thread.join();
        log(r->rule,
            "removed or changed: stopped; its copies stay as they are, no longer watched by it");
    }
    for (const auto& [fingerprint, rule] : wanted) {
        auto r = std::make_unique<Running>();
        r->rule = *rule;
        r->fingerprint = fingerprint;
        auto& ref = *r;
        if (!rule->name.empty()) {
            log(*rule, "starting");
        }
        ref.thread = std::thread([this, &ref] { run(ref); });
        std::lock_guard guard(mutex_);
        rules_.push_back(std::move(r));
    }
}

void RuleWatchers::stop_all() {
    std::list<std::unique_ptr<Running>> all;
    {
        std::lock_guard guard(mutex_);
        all.swap(rules_);
    }
    for (auto& r : all) {
        r->stop = true;
    }
    for (auto& r : all) {
        r->thread.join();
    }
}

std::exception_ptr RuleWatchers::failure() const {
    std::lock_guard guard(mutex_);
    return failure_;
}

std::vector<std::string> RuleWatchers::running() const {
    std::lock_guard guard(mutex_);
    std::vector<std::string> names;
    for (const auto& r : rules_) {
        names.push_back(r->rule.name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

void RuleWatchers::visit(
    const std::function<void(const std::string&, const Watcher*, bool)>& f) const {
    std::lock_guard guard(mutex_);
    for (const auto& r : rules_) {
        const auto& rule = r->rule;
        f(rule.name.empty() ? rule.spec.source_namespace : rule.name, r->watcher, r->failed);
    }
}

void RuleWatchers::each_rule(const std::function<void(const RuleRun&)>& f) const {
    std::lock_guard guard(mutex_);
    for (const auto& r : rules_) {
        if (!r->rule.name.empty()) {
            f({r->rule.name, r->watcher, r->failure, r->failure_code, r->since});
        }
    }
}

}  // namespace cmsync
