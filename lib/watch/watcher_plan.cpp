// How the watcher plans a copy: from what it holds, and, for a sensitive kind (held sealed),
// from values read afresh when there is something to write.
#include "watch/sealed.hpp"
#include "watch/watcher.hpp"

namespace cmsync {

std::optional<kube::Object> SourceReads::get(kube::ApiClient& api, const kube::Kind& kind,
                                             const kube::ObjectRef& source) {
    std::lock_guard guard(mutex_);
    auto [it, added] = read_.try_emplace(source.name);
    if (added) {
        it->second = api.get(kind, source.namespace_name, source.name);
    }
    return it->second;
}

SourceReads::Read SourceReads::again(kube::ApiClient& api, const kube::Kind& kind,
                                     const kube::ObjectRef& source) {
    constexpr auto kShared = std::chrono::milliseconds(250);
    std::lock_guard guard(again_mutex_);  // one read at a time: those waiting share it
    auto& [when, read] = again_[source.name];
    const auto asked = Clock::now();
    if (read == nullptr || asked - when > kShared) {
        when = asked;
        read = std::make_shared<const std::optional<kube::Object>>(
            api.get(kind, source.namespace_name, source.name));
    }
    return read;
}

std::map<std::string, SourceReads::Read> SourceReads::read_again() const {
    std::lock_guard guard(again_mutex_);
    std::map<std::string, Read> out;
    for (const auto& [name, entry] : again_) {
        out.emplace(name, entry.second);
    }
    return out;
}

const kube::Object* Watcher::latest_source(const kube::Object& source, bool slow_read,
                                           SourceReads& reads, SourceReads::Read& again) {
    if (!slow_read && !news_.moved_on(source.name, source.resource_version)) {
        return &source;
    }
    again = reads.again(source_api_, config_.spec.kind, source.ref());
    if (!*again || !selected(**again)) {
        return nullptr;
    }
    return (*again)->resource_version == source.resource_version ? &source : &**again;
}

void Watcher::plan_and_apply(const kube::Object& source, std::optional<kube::Object> copy,
                             const KeyHashes* digests, SourceReads& reads, TargetOutcome& o) {
    const auto& ns = o.target.namespace_name;
    const auto plan = [&](const kube::Object& s, const std::optional<kube::Object>& c,
                          const KeyHashes* d) {
        return plan_target({&s, c ? &*c : nullptr, ns, config_.write.keys, config_.write.force, d,
                            config_.write.source_cluster});
    };
    if (!source.sealed) {
        o.plan = plan(source, copy, digests);
        apply_outcome(api_, source, o, config_.write);
        return;
    }
    // No copy is known to be missing (a delete, a read): only a sealed one needs reading.
    const bool copy_read = !copy || !copy->sealed;
    o.plan = plan(source, copy ? std::optional(sealed(*copy)) : std::nullopt, digests);
    if (!o.plan.write && o.plan.action != TargetAction::error) {
        return;  // in step, or a conflict that writes nothing: decided without a value
    }
    // Something to write (or a plan error, whose words may depend on the values): read the
    // values, plan again from them, write, and let them go.
    const auto source_values = reads.get(source_api_, config_.spec.kind, source.ref());
    if (!source_values) {
        o.plan = {};  // deleted meanwhile: its event reports the copies
        return;
    }
    if (!copy_read) {
        copy = api_.get(config_.spec.kind, ns, source.name);
        copies_.learned(ns, source.name, copy);
    }
    o.plan = plan(*source_values, copy, nullptr);
    apply_outcome(api_, *source_values, o, config_.write);
}

}  // namespace cmsync
