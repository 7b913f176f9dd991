#include "plan/merge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "plan/ownership.hpp"
#include "plan/secret_type.hpp"
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

// What the target records of the source: the hashes of what this source last wrote, or that
// the plan is already settled (another source's copy without --force, an unreadable record).
struct Ownership {
    std::optional<KeyHashes> recorded;
    bool owned = false;  ///< the target's sync-from names this source
    bool settled = false;
};

Ownership check_ownership(const MergeInput& input, const kube::ObjectRef& from, TargetPlan& plan) {
    Ownership out;
    const Object* target = input.target;
    if (target == nullptr) {
        return out;
    }
    // Another source's copy, in this cluster or another (sync-from-cluster), is not ours.
    const auto owner = owner_text(*target);
    out.owned = copy_of(*target, from, input.source_cluster);
    if (!owner.empty() && !out.owned) {
        if (!input.force) {
            plan.action = TargetAction::conflict;
            plan.message = fmt::format("owned by {}", owner);
            out.settled = true;
            return out;
        }
        // Taking over: the other source's record says nothing about ours.
        plan.warnings.push_back(fmt::format("taking over from {} (--force)", owner));
        return out;
    }
    if (auto record = write_record(*target); record.present) {
        out.recorded = std::move(record.hashes);
        if (!out.recorded) {
            plan.action = TargetAction::error;
            plan.message = record.problem;
            out.settled = true;
        }
    }
    return out;
}

// K ∪ keys(last-synced): --keys (or every key of the source) and every key recorded.
std::set<std::string> managed_keys(const MergeInput& input,
                                   const std::optional<KeyHashes>& recorded) {
    std::set<std::string> managed;
    if (input.keys) {
        managed.insert(input.keys->begin(), input.keys->end());
    } else {
        for (const auto& [key, value] : input.source->data) {
            managed.insert(key);
        }
    }
    if (recorded) {
        for (const auto& [key, hash] : *recorded) {
            managed.insert(key);
        }
    }
    return managed;
}

// The source's digest of `key`: from the caller's digests when given, else hashed here.
std::string source_digest(const MergeInput& input, const std::string& key, const Value& value) {
    if (input.source_digests != nullptr) {
        if (const auto it = input.source_digests->find(key); it != input.source_digests->end()) {
            return it->second;
        }
    }
    return sha256_hex(value.bytes);
}

// The keys a plan manages at most: --keys, or every key of the source.
std::vector<std::string> wanted_keys(const MergeInput& input) {
    if (input.keys) {
        return *input.keys;
    }
    std::vector<std::string> keys;
    for (const auto& [key, value] : input.source->data) {
        keys.push_back(key);
    }
    return keys;
}

// What the object to write starts from: the target as read, or a new copy of the source.
Object start_desired(const MergeInput& input, const std::string& type) {
    if (input.target != nullptr) {
        return *input.target;
    }
    Object desired;
    desired.kind = input.source->kind;
    desired.type = type;
    desired.name = input.source->name;
    desired.namespace_name = input.target_namespace;
    return desired;
}

// What the managed keys add up to.
struct MergedKeys {
    KeyHashes next;  ///< the last-synced record to write
    bool data_changes = false;
    bool in_step_or_written = false;  ///< some managed key is (or will be) the source's
    bool conflicts = false;
    bool adds = false;
};

// Plans every managed key (a row of the merge table each), applies the changes to `desired`
// and adds the keys' plans and warnings to `plan`.
MergedKeys merge_keys(const MergeInput& input, const kube::ObjectRef& from,
                      const std::optional<KeyHashes>& recorded, Object& desired, TargetPlan& plan) {
    MergedKeys out;
    for (const auto& key : managed_keys(input, recorded)) {
        std::optional<std::string> h;
        if (recorded) {
            if (const auto it = recorded->find(key); it != recorded->end()) {
                h = it->second;
            }
        }
        auto kp = plan_key(key, lookup(input.source, key), lookup(input.target, key), h);
        if (input.force) {
            force_key(kp);
        }
        switch (kp.action) {
            case KeyAction::add:
            case KeyAction::modify:
                desired.data[key] = *kp.source;
                out.next[key] = source_digest(input, key, *kp.source);
                out.data_changes = true;
                out.in_step_or_written = true;
                out.adds = out.adds || kp.action == KeyAction::add;
                break;
            case KeyAction::unchanged:
                out.next[key] = source_digest(input, key, *kp.source);
                out.in_step_or_written = true;
                break;
            case KeyAction::remove:
                desired.data.erase(key);
                out.data_changes = true;
                out.in_step_or_written = true;
                break;
            case KeyAction::conflict:
                out.conflicts = true;
                if (h) {
                    out.next[key] = *h;  // keep the record: the key stays managed
                }
                break;
            case KeyAction::forget:
                break;
            case KeyAction::untouched:
                if (input.keys &&
                    std::find(input.keys->begin(), input.keys->end(), key) != input.keys->end()) {
                    plan.warnings.push_back(
                        fmt::format("key \"{}\" not in source {}", key, from.str()));
                }
                break;
        }
        if (kp.action != KeyAction::untouched) {
            plan.keys.push_back(std::move(kp));
        }
    }
    return out;
}

// Whether anything is to be sent: a new copy only with something to copy; an existing one when
// its data or its ownership record changes.
bool needs_write(const Object* target, const Ownership& ownership, const MergedKeys& merged) {
    if (target == nullptr) {
        return merged.adds;  // nothing to copy yet: no empty copy is created
    }
    const auto& recorded = ownership.recorded;
    if (!merged.in_step_or_written && !ownership.owned) {
        // Every managed key is in conflict: writing only the ownership record would claim a
        // copy this source synced nothing into (and make its real owner see a conflict).
        return false;
    }
    const auto label = target->labels.find(kManagedLabel);
    const bool metadata_changes = label == target->labels.end() || label->second != "true" ||
                                  !ownership.owned || !recorded ||
                                  record_changes(target->kind, *recorded, merged.next);
    return merged.data_changes || metadata_changes;
}

// Whether `desired` may be sent as planned. An immutable target that must change is an error
// for that target (with --force: delete and re-create it), as is a merged object over the API
// server's limit, found before sending.
bool writable(const MergeInput& input, bool data_changes, Object& desired, TargetPlan& plan) {
    if (input.target != nullptr && input.target->immutable && data_changes) {
        if (!input.force) {
            plan.action = TargetAction::error;
            plan.message = "target is immutable (use --force to delete and recreate it)";
            plan.write = false;
            return false;
        }
        plan.recreate = true;
        desired.resource_version.clear();
    }
    if (const auto problem = type_problem(desired)) {
        plan.action = TargetAction::error;
        plan.message = *problem;
        plan.write = false;
        return false;
    }
    if (kube::object_data_size(desired) > kMaxDataBytes) {
        plan.action = TargetAction::error;
        plan.message = fmt::format("merged {} would hold {} bytes, over the 1 MiB limit",
                                   input.source->kind.name, kube::object_data_size(desired));
        plan.write = false;
        return false;
    }
    return true;
}

}  // namespace

KeyHashes value_digests(const Object& cm) {
    KeyHashes digests;
    for (const auto& [key, value] : cm.data) {
        digests.emplace(key, sha256_hex(value.bytes));
    }
    return digests;
}

TargetPlan plan_target(const MergeInput& input) {
    const auto from = input.source->ref();
    TargetPlan plan;
    if (input.target != nullptr) {
        plan.target_exists = true;
        plan.target_resource_version = input.target->resource_version;
        plan.target_uid = input.target->uid;
    }
    const auto& source = *input.source;
    if (const auto why = refused_source_type(source.type); why && source.kind.sensitive) {
        plan.action = TargetAction::error;
        plan.message = fmt::format("source {} {} is of type {}: not synced ({})", source.kind.name,
                                   from.str(), source.type, *why);
        return plan;
    }
    const auto ownership = check_ownership(input, from, plan);
    if (ownership.settled) {
        return plan;
    }
    // A Secret's type cannot change: a copy of another type is replaced, with --force only.
    const auto type = source.kind.sensitive ? copy_type(source, wanted_keys(input)) : source.type;
    const bool retype = input.target != nullptr && input.target->type != type;
    if (retype && !input.force) {
        plan.action = TargetAction::conflict;
        plan.message = fmt::format("type {} differs from {} (use --force to replace the copy)",
                                   input.target->type, type);
        return plan;
    }
    Object desired = start_desired(input, type);
    const auto merged = merge_keys(input, from, ownership.recorded, desired, plan);
    desired.labels[kManagedLabel] = "true";
    set_sync_from(desired, from, input.source_cluster);
    set_write_record(desired, merged.next);
    plan.write = needs_write(input.target, ownership, merged) || retype;
    if (retype) {
        plan.warnings.push_back(fmt::format(
            "replacing a copy of type {} with one of type {} (--force)", input.target->type, type));
        plan.recreate = true;
        desired.type = type;
        desired.resource_version.clear();
    }
    if (plan.write) {
        desired.annotations[kSourceVersionAnnotation] = input.source->resource_version;
    }
    if (merged.conflicts) {
        plan.action = TargetAction::conflict;
        plan.message = "managed keys in conflict (use --force to overwrite)";
        plan.hand_edited = true;
    } else if (!plan.write) {
        plan.action = TargetAction::unchanged;
    } else {
        plan.action = input.target == nullptr ? TargetAction::create : TargetAction::update;
    }
    if (plan.write && writable(input, merged.data_changes, desired, plan)) {
        plan.desired = std::move(desired);
    }
    return plan;
}

TargetPlan plan_orphan(const Object& target, const kube::ObjectRef& from, bool prune, bool force,
                       const std::string& cluster) {
    TargetPlan plan;
    plan.target_exists = true;
    plan.target_resource_version = target.resource_version;
    plan.target_uid = target.uid;
    if (!copy_of(target, from, cluster)) {
        plan.action = TargetAction::unchanged;  // not a copy of this source
        return plan;
    }
    plan.orphaned = true;
    if (!prune) {
        plan.action = TargetAction::conflict;
        plan.message = fmt::format("orphaned: source {}{} is gone (--prune removes its keys)",
                                   cluster.empty() ? "" : cluster + "/", from.str());
        return plan;
    }
    const auto recorded = write_record(target).hashes;
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
        set_write_record(desired, next);
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
        desired.annotations.erase(kSyncFromClusterAnnotation);
        erase_write_record(desired);
        desired.annotations.erase(kSourceVersionAnnotation);
        if (const auto problem = type_problem(desired)) {
            plan.action = TargetAction::error;  // what is left is not a Secret of its type
            plan.message = *problem;
            plan.write = false;
            return plan;
        }
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
