#include "controller/rule_watchers.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "http/transport.hpp"

#include <algorithm>
#include <chrono>
#include <map>

namespace cmsync {

namespace {

// A rule that cannot start (its source namespace forbidden, the server away) tries again
// after this long; the other rules are not held up.
constexpr std::chrono::seconds kRetryAfter{30};

// From this many ConfigMap rules, rules share one cluster-wide stream (SharedStream): each
// rule watching its own namespaces cost a list, a watch and memory per namespace per rule.
// Below it, a rule's own streams keep a busy cluster's unrelated churn away.
constexpr std::size_t kShareFrom = 20;

// Driver threads at most: each runs a round of its rules' watchers in turn; a pass that
// writes runs its writes on the process's shared pool while its driver waits.
constexpr std::size_t kDrivers = 8;
// How long a driver waits at most between rounds (a watcher's own loop ticks as often).
constexpr std::chrono::milliseconds kTick{200};

}  // namespace

RuleWatchers::RuleWatchers(ClusterClients& clusters, WatchConfig base, ActionSink on_action,
                           LogSink log, OnFailure on_failure)
    : clusters_(clusters),
      api_(clusters.api(ClusterRef{})),
      base_(std::move(base)),
      on_action_(std::move(on_action)),
      log_(std::move(log)),
      on_failure_(on_failure) {}

RuleWatchers::RuleWatchers(kube::ApiClient& api, WatchConfig base, ActionSink on_action,
                           LogSink log, OnFailure on_failure)
    : one_cluster_(std::make_unique<OneCluster>(api)),
      clusters_(*one_cluster_),
      api_(api),
      base_(std::move(base)),
      on_action_(std::move(on_action)),
      log_(std::move(log)),
      on_failure_(on_failure) {}

RuleWatchers::~RuleWatchers() {
    stop_all();
}

WatchConfig RuleWatchers::config_for(const Running& r) const {
    const auto& rule = r.rule;
    auto config = base_;
    config.spec = rule.spec;
    config.write.keys = rule.spec.keys;
    config.shared_stream = r.shared;
    config.state_file = unit_state_file(base_.state_file, rule.name, r.cluster);
    if (!names_clusters(rule.spec)) {
        return config;
    }
    auto& targets = clusters_.api(r.target);
    config.cluster = r.cluster;
    config.source_cluster = rule.spec.source_cluster.name;
    config.other_cluster = &targets != &api_;
    if (r.across) {
        // Copies say where their source is, exactly as sync writes them (sync-from-cluster).
        config.source_api = &clusters_.api(rule.spec.source_cluster);
        config.write.source_cluster = rule.spec.source_cluster.name;
    }
    return config;
}

void RuleWatchers::log(const Running& r, const std::string& line) const {
    log_(unit_log_prefix(r.rule.name, r.cluster) + line);
}

void RuleWatchers::publish(Running& r, Watcher* watcher) {
    std::lock_guard guard(mutex_);
    r.watcher = watcher;
    if (watcher != nullptr) {
        r.since = std::chrono::steady_clock::now();
        r.failure.clear();
        r.failure_code = 0;
        r.unreachable = false;
    }
}

bool RuleWatchers::failed(Running& r) {
    const auto error = std::current_exception();
    std::string what = "unknown error";
    int code = 0;
    bool unreachable = false;
    try {
        std::rethrow_exception(error);
    } catch (const ApiError& e) {
        what = e.what();
        code = e.code();
    } catch (const http::TransportError& e) {
        what = e.what();
        unreachable = true;
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    {
        std::lock_guard guard(mutex_);
        r.failed = true;
        r.failure = what;
        r.failure_code = code;
        r.unreachable = unreachable;
        // Each cluster on its own: one that fails does not end the others' watch.
        if (on_failure_ == OnFailure::stop && r.cluster.empty()) {
            if (!failure_) {
                failure_ = error;
            }
            return false;
        }
    }
    // The watcher names its cluster in what it throws; the line's prefix names it already.
    const auto named = fmt::format("cluster {}: ", r.cluster);
    const auto said =
        !r.cluster.empty() && what.rfind(named, 0) == 0 ? what.substr(named.size()) : what;
    log(r, fmt::format("cannot watch: {}; again in {} s (the other {} go on)", said,
                       kRetryAfter.count(), r.cluster.empty() ? "rules" : "clusters and rules"));
    r.retry_at = std::chrono::steady_clock::now() + kRetryAfter;
    return true;
}

bool RuleWatchers::step(Driver& d, Running& r) {
    if (r.stop) {
        if (r.owned) {
            publish(r, nullptr);
            try {
                r.owned->end();  // writes in flight are finished and state saved
            } catch (const std::exception& e) {
                log(r, fmt::format("stopping: {}", e.what()));
            }
            r.owned.reset();
        }
        return false;
    }
    if (!r.owned) {
        if (std::chrono::steady_clock::now() < r.retry_at) {
            return true;
        }
        const auto name = r.rule.name;
        std::unique_ptr<Watcher> watcher;
        try {
            watcher = std::make_unique<Watcher>(
                clusters_.api(r.target), config_for(r),
                [this, name](const WatchAction& action) { on_action_(name, action); },
                [this, &r](const std::string& line) { log(r, line); });
            watcher->on_event([&d] {
                {
                    std::lock_guard guard(d.mutex);
                    d.wake = true;
                }
                d.woken.notify_one();
            });
            watcher->begin();
        } catch (...) {
            return failed(r);
        }
        r.owned = std::move(watcher);
        publish(r, r.owned.get());
    }
    try {
        r.owned->turn(std::chrono::milliseconds(0));
    } catch (...) {
        publish(r, nullptr);
        r.owned.reset();
        return failed(r);
    }
    return true;
}

void RuleWatchers::drive(Driver& d) {
    std::vector<Running*> rules;
    for (;;) {
        {
            std::lock_guard guard(d.mutex);
            if (d.stop && d.rules.empty()) {
                return;
            }
            rules = d.rules;
            d.wake = false;
        }
        auto wait = kTick;
        std::vector<Running*> ended;
        for (auto* r : rules) {
            if (!step(d, *r)) {
                ended.push_back(r);
            } else if (r->owned) {
                wait = std::min(wait, r->owned->until_due());
            }
        }
        if (!ended.empty()) {
            {
                std::lock_guard guard(d.mutex);
                std::erase_if(d.rules, [&](Running* r) {
                    return std::find(ended.begin(), ended.end(), r) != ended.end();
                });
            }
            {
                std::lock_guard guard(mutex_);
                for (auto* r : ended) {
                    r->ended = true;
                }
            }
            ended_.notify_all();
        }
        std::unique_lock lock(d.mutex);
        d.woken.wait_for(lock, wait, [&] { return d.wake || d.stop; });
    }
}

RuleWatchers::Driver& RuleWatchers::next_driver() {
    if (drivers_.size() < kDrivers) {
        auto d = std::make_unique<Driver>();
        auto& ref = *d;
        ref.thread = std::thread([this, &ref] { drive(ref); });
        drivers_.push_back(std::move(d));
        return ref;
    }
    return *drivers_[next_driver_++ % drivers_.size()];
}

void RuleWatchers::stop_rules(const std::list<std::unique_ptr<Running>>& rules) {
    for (const auto& r : rules) {
        r->stop = true;
    }
    for (const auto& d : drivers_) {
        {
            std::lock_guard guard(d->mutex);
            d->wake = true;
        }
        d->woken.notify_one();
    }
    std::unique_lock lock(mutex_);
    ended_.wait(lock, [&] {
        return std::all_of(rules.begin(), rules.end(), [](const auto& r) { return r->ended; });
    });
}

void RuleWatchers::apply(const std::vector<Rule>& rules) {
    const auto configmap_rules = std::count_if(
        rules.begin(), rules.end(), [](const Rule& r) { return !r.spec.kind.sensitive; });
    if (!shared_ && static_cast<std::size_t>(configmap_rules) >= kShareFrom) {
        shared_ =
            std::make_unique<SharedStream>(api_, kube::kConfigMap, base_.run.chunk_size, log_);
    }
    std::map<std::string, RuleUnit> wanted;
    for (const auto& rule : rules) {
        for (auto& unit : rule_units(rule)) {
            wanted.emplace(unit.fingerprint, std::move(unit));
        }
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
    stop_rules(stopping);
    for (auto& r : stopping) {
        log(*r,
            "removed or changed: stopped; its copies stay as they are, no longer watched by it");
    }
    for (auto& [fingerprint, unit] : wanted) {
        auto r = std::make_unique<Running>();
        r->rule = std::move(unit.rule);
        r->fingerprint = fingerprint;
        r->target = unit.target;
        r->cluster = unit.cluster;
        r->across = unit.across;
        // The shared stream is the process's own cluster's.
        r->shared = names_clusters(r->rule.spec) ? nullptr : shared_.get();
        auto* ref = r.get();
        if (!r->rule.name.empty() || !r->cluster.empty()) {
            log(*r, "starting");
        }
        {
            std::lock_guard guard(mutex_);
            rules_.push_back(std::move(r));
        }
        auto& d = next_driver();
        {
            std::lock_guard guard(d.mutex);
            d.rules.push_back(ref);
            d.wake = true;
        }
        d.woken.notify_one();
    }
}

void RuleWatchers::stop_all() {
    std::list<std::unique_ptr<Running>> all;
    {
        std::lock_guard guard(mutex_);
        all.swap(rules_);
    }
    stop_rules(all);
    for (auto& d : drivers_) {
        {
            std::lock_guard guard(d->mutex);
            d->stop = true;
        }
        d->woken.notify_one();
        d->thread.join();
    }
    drivers_.clear();
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

void RuleWatchers::visit(const std::function<void(const UnitState&)>& f) const {
    std::lock_guard guard(mutex_);
    for (const auto& r : rules_) {
        const auto& rule = r->rule;
        f({rule.name.empty() ? rule.spec.source_namespace : rule.name, r->cluster, r->watcher,
           r->failed, r->unreachable && r->watcher == nullptr ? r->failure : std::string()});
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
