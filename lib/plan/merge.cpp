#include "plan/merge.hpp"

#include <fmt/format.h>

#include <set>

#include "plan/ownership.hpp"
#include "util/sha256.hpp"

namespace cmsync {

namespace {

using kube::Object;
using kube::Value;

std::optional<Value> lookup(const Object* cm, const std::string& key) {
    if (cm == nullptr) {
        return std::nullopt;
    }
    const auto it = cm->data.find(key);
    return it == cm->data.end() ? std::nullopt : std::optional<Value>(it->second);
}

std::string annotation(const Object& cm, const char* name) {
    const auto it = cm.annotations.find(name);
    return it == cm.annotations.end() ? std::string() : it->second;
}

// One row of the merge table, before --force.
KeyPlan plan_key(const std::string& key, const std::optional<Value>& s,
                 const std::optional<Value>& t, const std::optional<std::string>& h) {
    KeyPlan plan{key, KeyAction::untouched, s, t, {}, false};
    if (s) {
        if (!t) {
            plan.action = h ? KeyAction::conflict : KeyAction::add;
            if (h) {
                plan.reason = "managed key was deleted in the target";
            }
        } else if (*t == *s) {
            plan.action = KeyAction::unchanged;
        } else if (h && sha256_hex(t->bytes) == *h) {
            plan.action = KeyAction::modify;
        } else {
            plan.action = KeyAction::conflict;
            plan.reason = h ? "managed key was edited in the target"
                            : "key exists in the target with another value";
        }
    } else if (t) {
        if (h && sha256_hex(t->bytes) == *h) {
            plan.action = KeyAction::remove;
        } else if (h) {
            plan.action = KeyAction::conflict;
            plan.reason = "key was dropped by the source but edited in the target";
        }
    } else if (h) {
        plan.action = KeyAction::forget;
    }
    return plan;
}

void force_key(KeyPlan& plan) {
    if (plan.action != KeyAction::conflict) {
        return;
    }
    plan.forced = true;
    if (plan.source) {
        plan.action = plan.target ? KeyAction::modify : KeyAction::add;
    } else {
        plan.action = KeyAction::remove;
    }
}

}  // namespace

std::string source_id(const Object& cm) {
    return cm.namespace_name + "/" + cm.name;
}

KeyHashes value_digests(const Object& cm) {
    KeyHashes digests;
    for (const auto& [key, value] : cm.data) {
        digests.emplace(key, sha256_hex(value.bytes));
    }
    return digests;
}

TargetPlan plan_target(const MergeInput& input) {
    const Object& source = *input.source;
    const Object* target = input.target;
    TargetPlan plan;
    const std::string from = source_id(source);
    if (target != nullptr) {
        plan.target_exists = true;
        plan.target_resource_version = target->resource_version;
        plan.target_uid = target->uid;
    }

    std::optional<KeyHashes> recorded;
    bool taking_over = false;
    if (target != nullptr) {
        const auto owner = annotation(*target, kSyncFromAnnotation);
        if (!owner.empty() && owner != from) {
            if (!input.force) {
                plan.action = TargetAction::conflict;
                plan.message = fmt::format("owned by {}", owner);
                return plan;
            }
            taking_over = true;  // the other source's record says nothing about ours
            plan.warnings.push_back(fmt::format("taking over from {} (--force)", owner));
        }
        if (const auto it = target->annotations.find(kLastSyncedAnnotation);
            it != target->annotations.end() && !taking_over) {
            recorded = parse_last_synced(it->second);
            if (!recorded) {
                plan.action = TargetAction::error;
                plan.message = fmt::format("annotation {} is not a JSON object of hashes",
                                           kLastSyncedAnnotation);
                return plan;
            }
        }
    }

    std::set<std::string> managed;
    std::set<std::string> named;
    if (input.keys) {
        named.insert(input.keys->begin(), input.keys->end());
        managed = named;
    } else {
        for (const auto& [key, value] : source.data) {
            managed.insert(key);
        }
    }
    if (recorded) {
        for (const auto& [key, hash] : *recorded) {
            managed.insert(key);
        }
    }

    const auto source_digest = [&](const std::string& key, const Value& value) {
        if (input.source_digests != nullptr) {
            if (const auto it = input.source_digests->find(key);
                it != input.source_digests->end()) {
                return it->second;
            }
        }
        return sha256_hex(value.bytes);
    };
    KeyHashes next;
    bool data_changes = false;
    bool in_step_or_written = false;  // some managed key is (or will be) the source's
    bool conflicts = false;
    bool adds = false;
    Object desired;
    if (target != nullptr) {
        desired = *target;
    } else {
        desired.kind = source.kind;
        desired.type = source.type;  // a Secret copy is created with its source's type
        desired.name = source.name;
        desired.namespace_name = input.target_namespace;
    }
    for (const auto& key : managed) {
        std::optional<std::string> h;
        if (recorded) {
            if (const auto it = recorded->find(key); it != recorded->end()) {
                h = it->second;
            }
        }
        auto kp = plan_key(key, lookup(&source, key), lookup(target, key), h);
        if (input.force) {
            force_key(kp);
        }
        switch (kp.action) {
            case KeyAction::add:
            case KeyAction::modify:
                desired.data[key] = *kp.source;
                next[key] = source_digest(key, *kp.source);
                data_changes = true;
                in_step_or_written = true;
                adds = adds || kp.action == KeyAction::add;
                break;
            case KeyAction::unchanged:
                next[key] = source_digest(key, *kp.source);
                in_step_or_written = true;
                break;
            case KeyAction::remove:
                desired.data.erase(key);
                data_changes = true;
                in_step_or_written = true;
                break;
            case KeyAction::conflict:
                conflicts = true;
                if (h) {
                    next[key] = *h;  // keep the record: the key stays managed
                }
                break;
            case KeyAction::forget:
                break;
            case KeyAction::untouched:
                if (named.count(key) != 0) {
                    plan.warnings.push_back(fmt::format("key \"{}\" not in source {}", key, from));
                }
                break;
        }
        if (kp.action != KeyAction::untouched) {
            plan.keys.push_back(std::move(kp));
        }
    }

    desired.labels[kManagedLabel] = "true";
    desired.annotations[kSyncFromAnnotation] = from;
    desired.annotations[kLastSyncedAnnotation] = format_last_synced(next);
    const bool metadata_changes = target == nullptr || target->labels.count(kManagedLabel) == 0 ||
                                  target->labels.at(kManagedLabel) != "true" ||
                                  annotation(*target, kSyncFromAnnotation) != from || !recorded ||
                                  *recorded != next;
    if (target == nullptr) {
        plan.write = adds;  // nothing to copy yet: no empty copy is created
    } else if (!in_step_or_written && annotation(*target, kSyncFromAnnotation) != from) {
        // Every managed key is in conflict: writing only the ownership record would claim a
        // copy this source synced nothing into (and make its real owner see a conflict).
        plan.write = false;
    } else {
        plan.write = data_changes || metadata_changes;
    }
    if (plan.write) {
        desired.annotations[kSourceVersionAnnotation] = source.resource_version;
    }

    if (conflicts) {
        plan.action = TargetAction::conflict;
        plan.message = "managed keys in conflict (use --force to overwrite)";
        plan.hand_edited = true;
    } else if (!plan.write) {
        plan.action = TargetAction::unchanged;
    } else {
        plan.action = target == nullptr ? TargetAction::create : TargetAction::update;
    }

    if (plan.write && target != nullptr && target->immutable && data_changes) {
        if (!input.force) {
            plan.action = TargetAction::error;
            plan.message = "target is immutable (use --force to delete and recreate it)";
            plan.write = false;
            return plan;
        }
        plan.recreate = true;
        desired.resource_version.clear();
    }
    if (plan.write && kube::object_data_size(desired) > kMaxDataBytes) {
        plan.action = TargetAction::error;
        plan.message = fmt::format("merged {} would hold {} bytes, over the 1 MiB limit",
                                   source.kind.name, kube::object_data_size(desired));
        plan.write = false;
        return plan;
    }
    if (plan.write) {
        plan.desired = std::move(desired);
    }
    return plan;
}

TargetPlan plan_orphan(const Object& target, const std::string& from, bool prune, bool force) {
    TargetPlan plan;
    plan.target_exists = true;
    plan.target_resource_version = target.resource_version;
    plan.target_uid = target.uid;
    if (annotation(target, kSyncFromAnnotation) != from) {
        plan.action = TargetAction::unchanged;  // not a copy of this source
        return plan;
    }
    plan.orphaned = true;
    if (!prune) {
        plan.action = TargetAction::conflict;
        plan.message = fmt::format("orphaned: source {} is gone (--prune removes its keys)", from);
        return plan;
    }
    const auto recorded = parse_last_synced(annotation(target, kLastSyncedAnnotation));
    Object desired = target;
    KeyHashes next;
    bool conflicts = false;
    for (const auto& [key, hash] : recorded.value_or(KeyHashes{})) {
        auto kp = plan_key(key, std::nullopt, lookup(&target, key), hash);
        if (force) {
            force_key(kp);
        }
        if (kp.action == KeyAction::remove) {
            desired.data.erase(key);
        } else if (kp.action == KeyAction::conflict) {
            conflicts = true;
            next[key] = hash;
        }
        if (kp.action != KeyAction::untouched) {
            plan.keys.push_back(std::move(kp));
        }
    }
    if (conflicts) {
        plan.action = TargetAction::conflict;
        plan.message = "orphaned copy with edited managed keys (use --force to remove them)";
        plan.hand_edited = true;
        desired.annotations[kLastSyncedAnnotation] = format_last_synced(next);
        plan.write = true;
        plan.desired = std::move(desired);
        return plan;
    }
    plan.action = TargetAction::update;
    plan.write = true;
    if (desired.data.empty()) {
        plan.delete_copy = true;
    } else {
        desired.labels.erase(kManagedLabel);
        desired.annotations.erase(kSyncFromAnnotation);
        desired.annotations.erase(kLastSyncedAnnotation);
        desired.annotations.erase(kSourceVersionAnnotation);
    }
    plan.desired = std::move(desired);
    return plan;
}

const char* to_string(KeyAction action) {
    // In the enum's order.
    constexpr const char* kWords[] = {"add",      "modify", "remove",   "unchanged",
                                      "conflict", "forget", "untouched"};
    return kWords[static_cast<int>(action)];
}

const char* to_string(TargetAction action) {
    constexpr const char* kWords[] = {"create", "update", "unchanged", "conflict", "error"};
    return kWords[static_cast<int>(action)];
}

}  // namespace cmsync
