#include "controller/cluster_rules.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "kube/json.hpp"

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

std::shared_ptr<const ClusterRules::View> ClusterRules::view() const {
    std::lock_guard guard(mutex_);
    return view_;
}

namespace {

// What makes two readings of a rule object say the same rule: the object (uid) and its spec's
// version (generation). A status written, the object's other changes, do not make it so.
std::string identity(const std::string& json) {
    rapidjson::Document doc;
    if (!kube::parse_json_object(json, doc).empty()) {
        return {};
    }
    const auto* meta = kube::json_object(doc, "metadata");
    if (meta == nullptr) {
        return {};
    }
    const auto generation = meta->FindMember("generation");
    return fmt::format("{}/{}", kube::json_string(*meta, "uid"),
                       generation != meta->MemberEnd() && generation->value.IsInt64()
                           ? generation->value.GetInt64()
                           : -1);
}

}  // namespace

ClusterRules::Refresh ClusterRules::refresh() {
    std::array<ObjectFeed::Snapshot, 3> now;
    for (std::size_t i = 0; i < feeds_.size(); ++i) {
        now[i] = feeds_[i].snapshot();
        if (!now[i].listed) {
            return Refresh::not_listed;
        }
    }
    bool changed = false;
    for (std::size_t i = 0; i < feeds_.size(); ++i) {
        changed = changed || now[i].version != versions_[i];
    }
    if (!changed && view_) {
        return Refresh::same;
    }
    // A rule object is read again only when it is another object or its spec changed: a
    // thousand rules' statuses being written do not cost a thousand readings a second.
    bool rules_changed = !view_ || now[2].version != versions_[2];
    for (std::size_t i = 0; i < feeds_.size(); ++i) {
        versions_[i] = now[i].version;
    }
    auto view = std::make_shared<View>();
    std::map<std::string, Parsed> parsed;
    const auto add = [&](const std::string& key, const std::string& json, bool namespaced) {
        const auto at = fmt::format("{}{}", namespaced ? "n:" : "c:", key);
        auto id = identity(json);
        auto known = parsed_.find(at);
        if (known == parsed_.end() || id.empty() || known->second.identity != id) {
            rules_changed = true;
            try {
                auto object = namespaced ? read_sync_rule(json) : read_cluster_rule(json);
                object.json.clear();
                known =
                    parsed_.insert_or_assign(at, Parsed{std::move(id), std::move(object)}).first;
            } catch (const std::exception& e) {
                log_(fmt::format("a rule object that cannot be read: {}", e.what()));
                return;
            }
        }
        auto object = known->second.object;
        object.json = json;
        auto object_key = object.key();
        view->objects.emplace(std::move(object_key), std::move(object));
        parsed.insert(parsed_.extract(known));
    };
    for (const auto& [key, json] : now[0].objects) {
        add(key, json, false);
    }
    for (const auto& [key, json] : now[1].objects) {
        add(key, json, true);
    }
    rules_changed = rules_changed || !parsed_.empty();  // some are gone
    parsed_ = std::move(parsed);
    if (rules_changed) {
        std::vector<Grant> grants;
        for (const auto& [key, json] : now[2].objects) {
            grants.push_back(read_grant(json));
        }
        view->selection = select_rules(view->objects, grants);
        report(*view);
    } else {
        view->selection = view_->selection;
    }
    std::lock_guard guard(mutex_);
    view_ = std::move(view);
    return rules_changed ? Refresh::rules_changed : Refresh::statuses_changed;
}

RuleSource ClusterRules::source() {
    return [this]() -> std::optional<RuleUpdate> {
        if (refresh() != Refresh::rules_changed && answered_) {
            return std::nullopt;
        }
        const auto current = view();
        if (!current) {
            return std::nullopt;  // a first list is missing
        }
        auto rules = current->selection.rules;
        std::string fingerprint;
        for (const auto& rule : rules) {
            fingerprint += rule_fingerprint(rule) + "\n";
        }
        if (answered_ == fingerprint) {
            return std::nullopt;  // a grant that changes no rule: nothing to restart
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
