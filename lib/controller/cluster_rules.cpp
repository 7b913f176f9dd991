#include "controller/cluster_rules.hpp"

#include <fmt/format.h>

namespace cmsync::controller {

ClusterRules::ClusterRules(kube::ApiClient& api, LogSink log)
    : log_(std::move(log)),
      feeds_{ObjectFeed(api, kClusterSyncRulesPath, kClusterSyncRulesResource, log_),
             ObjectFeed(api, kSyncRulesPath, kSyncRulesResource, log_),
             ObjectFeed(api, kSyncGrantsPath, kSyncGrantsResource, log_)} {}

void ClusterRules::start() {
    for (auto& feed : feeds_) {
        feed.start();
    }
}

void ClusterRules::stop() {
    for (auto& feed : feeds_) {
        feed.stop();
    }
}

ClusterRules::View ClusterRules::view() const {
    std::lock_guard guard(mutex_);
    return view_;
}

bool ClusterRules::refresh() {
    std::array<ObjectFeed::Snapshot, 3> now;
    for (std::size_t i = 0; i < feeds_.size(); ++i) {
        now[i] = feeds_[i].snapshot();
        if (!now[i].listed) {
            return false;
        }
    }
    bool changed = false;
    for (std::size_t i = 0; i < feeds_.size(); ++i) {
        changed = changed || now[i].version != versions_[i];
        versions_[i] = now[i].version;
    }
    if (!changed) {
        return true;
    }
    View view;
    const auto add = [&](const std::string& json, bool namespaced) {
        try {
            auto object = namespaced ? read_sync_rule(json) : read_cluster_rule(json);
            auto key = object.key();
            view.objects.emplace(std::move(key), std::move(object));
        } catch (const std::exception& e) {
            log_(fmt::format("a rule object that cannot be read: {}", e.what()));
        }
    };
    for (const auto& [key, json] : now[0].objects) {
        add(json, false);
    }
    for (const auto& [key, json] : now[1].objects) {
        add(json, true);
    }
    std::vector<Grant> grants;
    for (const auto& [key, json] : now[2].objects) {
        grants.push_back(read_grant(json));
    }
    view.selection = select_rules(view.objects, grants);
    report(view);
    std::lock_guard guard(mutex_);
    view_ = std::move(view);
    return true;
}

RuleSource ClusterRules::source() {
    return [this]() -> std::optional<RuleUpdate> {
        if (!refresh()) {
            return std::nullopt;
        }
        auto rules = view().selection.rules;
        std::string fingerprint;
        for (const auto& rule : rules) {
            fingerprint += rule_fingerprint(rule) + "\n";
        }
        if (answered_ == fingerprint) {
            return std::nullopt;  // a status, a grant that changes no rule: nothing to restart
        }
        answered_ = fingerprint;
        return RuleUpdate{std::move(rules), {}};
    };
}

void ClusterRules::report(const View& view) {
    std::map<std::string, std::string> now;
    for (const auto& [key, object] : view.objects) {
        if (!object.errors.empty()) {
            now[object.label()] =
                fmt::format("generation {}: {}", object.generation, fmt::join(object.errors, "; "));
        } else if (const auto it = view.selection.refused.find(key);
                   it != view.selection.refused.end()) {
            now[object.label()] = it->second;
        }
    }
    for (const auto& [label, why] : now) {
        if (said_[label] != why) {
            log_(fmt::format("{} does not run: {}", label, why));
        }
    }
    said_ = std::move(now);
}

}  // namespace cmsync::controller
