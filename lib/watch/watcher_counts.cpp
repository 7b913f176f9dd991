// Watcher: what each copy was last reported as, counted for a rule object's status.
#include <chrono>

#include "watch/watcher.hpp"

namespace cmsync {

void Watcher::note_copy_state(const TargetOutcome& o) {
    std::optional<CopyState> state;  // nothing: in step, or no copy (pruned)
    if (!o.error.empty() || o.plan.action == TargetAction::error) {
        state = CopyState::error;
    } else if (o.plan.action == TargetAction::conflict) {
        state = o.plan.orphaned ? CopyState::orphaned : CopyState::conflict;
    } else if (o.plan.write && !o.applied && !o.plan.delete_copy) {
        return;  // held back (a standby): it is what it was
    }
    std::lock_guard guard(mutex_);
    if (o.applied) {
        last_write_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
    }
    if (state) {
        out_of_step_[o.target] = *state;
    } else {
        out_of_step_.erase(o.target);
    }
}

CopyCounts Watcher::copy_counts() const {
    std::lock_guard guard(mutex_);
    CopyCounts out;
    out.targets = source_names_.size() * targets_.size();
    out.last_write_unix_ms = last_write_unix_ms_;
    // In step: every copy of ours known to exist (the copy cache's) that is not out of step.
    // Kept this way, not as a state per copy: 10,000 copies cost no more memory than before.
    std::size_t ours_out_of_step = 0;
    for (const auto& [copy, state] : out_of_step_) {
        if (state == CopyState::orphaned) {
            ++out.orphaned;
            continue;
        }
        if (targets_.count(copy.namespace_name) == 0 || source_names_.count(copy.name) == 0) {
            continue;  // no longer a target (its namespace or source went)
        }
        ++(state == CopyState::conflict ? out.conflicts : out.errors);
        if (copies_.has_copy(copy.namespace_name, copy.name)) {
            ++ours_out_of_step;
        }
    }
    // Of the targets and sources held now: a namespace no longer a target (or a source gone)
    // leaves the sets first and the cache a moment later; counted meanwhile, its copy made
    // "12 targets, 12 in step, 1 conflict" in a rule's status (found by the rules soak).
    const auto ours = copies_.copies_in(targets_, source_names_);
    out.in_step = ours > ours_out_of_step ? ours - ours_out_of_step : 0;
    for (const auto& name : config_.spec.selection.names) {
        if (source_names_.count(name) == 0) {
            out.missing_sources.push_back(name);
        }
    }
    return out;
}

}  // namespace cmsync
