// Watcher: what each copy was last reported as, counted for a rule object's status.
#include <chrono>

#include "watch/watcher.hpp"

namespace cmsync {

void Watcher::note_copy_state(const TargetOutcome& o) {
    std::optional<CopyState> state;
    if (!o.error.empty() || o.plan.action == TargetAction::error) {
        state = CopyState::error;
    } else if (o.plan.action == TargetAction::conflict) {
        state = o.plan.orphaned ? CopyState::orphaned : CopyState::conflict;
    } else if (o.plan.delete_copy) {
        state.reset();  // pruned (or to be): no copy to count
    } else if (o.plan.write && !o.applied) {
        return;  // held back (a standby): it is what it was
    } else {
        state = CopyState::in_step;
    }
    std::lock_guard guard(mutex_);
    if (o.applied) {
        last_write_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
    }
    if (state) {
        copy_states_[o.target] = *state;
    } else {
        copy_states_.erase(o.target);
    }
}

CopyCounts Watcher::copy_counts() const {
    std::lock_guard guard(mutex_);
    CopyCounts out;
    out.targets = source_names_.size() * targets_.size();
    out.last_write_unix_ms = last_write_unix_ms_;
    for (const auto& [copy, state] : copy_states_) {
        if (state == CopyState::orphaned) {
            ++out.orphaned;
            continue;
        }
        if (targets_.count(copy.namespace_name) == 0 || source_names_.count(copy.name) == 0) {
            continue;  // no longer a target (its namespace or source went)
        }
        switch (state) {
            case CopyState::in_step:
                ++out.in_step;
                break;
            case CopyState::conflict:
                ++out.conflicts;
                break;
            case CopyState::error:
                ++out.errors;
                break;
            case CopyState::orphaned:
                break;
        }
    }
    for (const auto& name : config_.spec.selection.names) {
        if (source_names_.count(name) == 0) {
            out.missing_sources.push_back(name);
        }
    }
    return out;
}

}  // namespace cmsync
