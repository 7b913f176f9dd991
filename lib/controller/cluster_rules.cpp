#include "controller/cluster_rules.hpp"

#include <fmt/format.h>

#include <random>

#include "error.hpp"
#include "util/backoff.hpp"

namespace cmsync::controller {

namespace {

double random_unit() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

ClusterRules::ClusterRules(kube::ApiClient& api, LogSink log) : api_(api), log_(std::move(log)) {}

ClusterRules::~ClusterRules() {
    stop();
}

void ClusterRules::start() {
    thread_ = std::thread([this] { run(); });
}

void ClusterRules::stop() {
    stop_ = true;
    woken_.notify_all();
    api_.wake_watches();
    if (thread_.joinable()) {
        thread_.join();
    }
}

RuleSource ClusterRules::source() {
    return [this]() -> std::optional<RuleUpdate> {
        std::map<std::string, RuleObject> objects;
        {
            std::lock_guard guard(mutex_);
            if (!listed_ || !changed_) {
                return std::nullopt;
            }
            changed_ = false;
            objects = objects_;
        }
        auto selection = select_rules(objects);
        report(selection);
        {
            std::lock_guard guard(mutex_);
            refused_ = selection.refused;
        }
        return RuleUpdate{std::move(selection.rules), {}};
    };
}

std::map<std::string, RuleObject> ClusterRules::objects() const {
    std::lock_guard guard(mutex_);
    return objects_;
}

std::map<std::string, std::string> ClusterRules::refused() const {
    std::lock_guard guard(mutex_);
    return refused_;
}

void ClusterRules::report(const RuleSelection& selection) {
    std::map<std::string, std::string> now;
    {
        std::lock_guard guard(mutex_);
        for (const auto& [name, object] : objects_) {
            if (!object.errors.empty()) {
                now[name] = fmt::format("generation {}: {}", object.generation,
                                        fmt::join(object.errors, "; "));
            }
        }
    }
    for (const auto& [name, why] : selection.refused) {
        now[name] = why;
    }
    for (const auto& [name, why] : now) {
        if (said_[name] != why) {
            log_(fmt::format("ClusterSyncRule {} does not run: {}", name, why));
        }
    }
    said_ = std::move(now);
}

void ClusterRules::apply(const std::string& json) {
    auto object = read_cluster_rule(json);
    std::lock_guard guard(mutex_);
    auto& held = objects_[object.name];
    // A status write changes the resourceVersion, not the spec: the rules stay as they are.
    const bool same = held.name == object.name && held.generation == object.generation &&
                      held.created == object.created && object.generation != 0;
    held = std::move(object);
    changed_ = changed_ || !same;
}

void ClusterRules::erase(const std::string& name) {
    std::lock_guard guard(mutex_);
    changed_ = objects_.erase(name) != 0 || changed_;
}

void ClusterRules::list_and_watch(std::string& resource_version) {
    if (resource_version.empty()) {
        std::map<std::string, RuleObject> listed;
        resource_version =
            api_.list_json(kClusterSyncRulesPath, kClusterSyncRulesResource, {},
                           [&](std::vector<std::string>&& items, bool restart) {
                               if (restart) {
                                   listed.clear();
                               }
                               for (const auto& json : items) {
                                   auto object = read_cluster_rule(json);
                                   auto name = object.name;
                                   listed.emplace(std::move(name), std::move(object));
                               }
                           });
        std::lock_guard guard(mutex_);
        objects_ = std::move(listed);
        listed_ = true;
        changed_ = true;
    }
    kube::WatchOptions options;
    options.resource_version = resource_version;
    options.timeout_seconds = 300 + static_cast<int>(random_unit() * 300);
    api_.watch_json(
        kClusterSyncRulesPath, kClusterSyncRulesResource, options,
        [&](kube::WatchEvent&& event) {
            if (event.type == kube::WatchEventType::error) {
                if (event.error_code == 410) {
                    log_("watch clustersyncrules: resourceVersion too old (410): relisting");
                    resource_version.clear();
                    return false;
                }
                throw Error(fmt::format("watch clustersyncrules: {}", event.error_message));
            }
            if (event.type == kube::WatchEventType::deleted) {
                erase(event.name);
            } else if (event.type != kube::WatchEventType::bookmark) {
                apply(event.object_json);
            }
            resource_version = event.resource_version;
            return !stop_;
        },
        [this] { return stop_.load(); });
}

void ClusterRules::run() {
    std::string resource_version;
    Backoff backoff;
    std::string last_problem;
    while (!stop_) {
        try {
            list_and_watch(resource_version);
            backoff.reset();
            last_problem.clear();
            continue;  // the server ended the stream: resume from where it was
        } catch (const ApiError& e) {
            if (e.code() == 410) {
                resource_version.clear();
                continue;
            }
            const std::string problem =
                e.code() == 404 ? "the ClusterSyncRule CRD is not installed (kubectl apply -f "
                                  "deploy/crds/); asking again"
                                : e.what();
            if (!stop_ && last_problem != problem) {
                log_(fmt::format("cannot read the rules: {}", problem));
            }
            last_problem = problem;
        } catch (const std::exception& e) {
            if (!stop_ && last_problem != e.what()) {
                log_(fmt::format("cannot read the rules: {}", e.what()));
            }
            last_problem = e.what();
        }
        std::unique_lock lock(mutex_);
        woken_.wait_for(lock, backoff.next(random_unit()), [this] { return stop_.load(); });
    }
}

}  // namespace cmsync::controller
