#include "sync/writer.hpp"

#include <fmt/format.h>

#include "error.hpp"

#include <random>
#include <thread>

namespace cmsync {

namespace {

kube::DryRun server_dry_run(const WriteOptions& options) {
    return options.dry_run == DryRunMode::server ? kube::DryRun::server : kube::DryRun::none;
}

void pause_before_retry(const WriteOptions& options, int attempt) {
    const double jitter = options.jitter ? options.jitter() : [] {
        thread_local std::mt19937 rng{std::random_device{}()};
        return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    }();
    const auto delay =
        std::chrono::milliseconds(static_cast<long>((50 << std::min(attempt, 5)) * (0.5 + jitter)));
    if (options.sleep) {
        options.sleep(delay);
    } else {
        std::this_thread::sleep_for(delay);
    }
}

void observe(const WriteOptions& options, const TargetOutcome& outcome,
             const std::optional<kube::Object>& now) {
    if (options.observed) {
        options.observed(outcome.target.namespace_name, outcome.target.name, now);
    }
}

// Writes `plan.desired`; returns false when a 409 asks for a fresh read and a new plan.
bool write_once(kube::ApiClient& api, const TargetOutcome& outcome, const WriteOptions& options) {
    const auto& plan = outcome.plan;
    const auto dry_run = server_dry_run(options);
    const auto& desired = *plan.desired;
    if (options.before_write) {
        options.before_write(desired);
    }
    kube::Until until{};
    if (options.write_gate) {
        const auto gate = options.write_gate();
        if (!gate) {
            throw Error("not written: this replica does not hold the leader Lease");
        }
        until = *gate;
    }
    try {
        std::optional<kube::Object> now;
        if (plan.delete_copy) {
            api.remove(desired.kind, desired.namespace_name, desired.name,
                       plan.target_resource_version, dry_run, until);
        } else if (plan.recreate) {
            api.remove(desired.kind, desired.namespace_name, desired.name,
                       plan.target_resource_version, dry_run, until);
            if (dry_run == kube::DryRun::server) {
                return true;  // a dry-run create would meet the object the delete left alone
            }
            now = api.create(desired, dry_run, until);
        } else if (!plan.target_exists) {
            now = api.create(desired, dry_run, until);
        } else {
            now = api.update(desired, dry_run, until);
        }
        if (dry_run == kube::DryRun::none) {
            observe(options, outcome, now);
        }
        return true;
    } catch (const ApiError& e) {
        if (e.code() == 409) {
            return false;  // Conflict (stale resourceVersion) or AlreadyExists
        }
        if (e.code() == 404 && plan.target_exists && !plan.delete_copy && !plan.recreate) {
            return false;  // the copy planned from is gone: read again (and create it)
        }
        throw;
    }
}

}  // namespace

void apply_outcome(kube::ApiClient& api, const kube::Object& source, TargetOutcome& outcome,
                   const WriteOptions& options) {
    const Replanner replan = [&](const std::optional<kube::Object>& current) {
        return plan_target({&source, current ? &*current : nullptr, outcome.target.namespace_name,
                            options.keys, options.force, nullptr, options.source_cluster});
    };
    apply_outcome(api, replan, outcome, options);
}

void apply_outcome(kube::ApiClient& api, const Replanner& replan, TargetOutcome& outcome,
                   const WriteOptions& options) {
    if (!outcome.error.empty() || !outcome.plan.write || options.dry_run == DryRunMode::client) {
        return;
    }
    try {
        for (int attempt = 0;; ++attempt) {
            if (write_once(api, outcome, options)) {
                outcome.applied = true;
                return;
            }
            if (attempt >= options.max_conflict_retries) {
                outcome.error = fmt::format(
                    "gave up after {} conflicting writes: the copy keeps changing", attempt + 1);
                return;
            }
            ++outcome.conflicts_retried;
            pause_before_retry(options, attempt);
            const auto kind = outcome.plan.desired->kind;  // a write was planned: it is there
            const auto current = api.get(kind, outcome.target.namespace_name, outcome.target.name);
            observe(options, outcome, current);
            outcome.plan = replan(current);
            if (!outcome.plan.write) {
                return;  // someone else brought it in step, or it is now a conflict only
            }
        }
    } catch (const std::exception& e) {
        outcome.error = e.what();
    }
}

}  // namespace cmsync
