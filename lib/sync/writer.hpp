#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kube/api_client.hpp"
#include "sync/report.hpp"

namespace cmsync {

enum class DryRunMode { none, client, server };

struct WriteOptions {
    DryRunMode dry_run = DryRunMode::none;
    std::optional<std::vector<std::string>> keys;
    bool force = false;
    /// 409 Conflict answers that are met by reading, planning and writing again.
    int max_conflict_retries = 5;
    std::function<void(std::chrono::milliseconds)> sleep;  ///< between conflict retries
    std::function<double()> jitter;                        ///< in [0, 1)
    /// Runs right before each write request (tests use it to race another writer).
    std::function<void(const kube::ConfigMap& desired)> before_write;
};

/// Carries out `outcome.plan` for one target: POST a missing copy, PUT with the target's
/// resourceVersion, or (immutable + --force) delete and re-create. On 409 Conflict it reads
/// the target again, plans again and retries (bounded, jittered); on 409 AlreadyExists after a
/// create it reads and plans again. Errors end up in `outcome.error`; nothing is thrown for
/// API or transport failures of this target.
/// Plans again from a fresh read of the target (nothing: it is gone).
using Replanner = std::function<TargetPlan(const std::optional<kube::ConfigMap>& target)>;

void apply_outcome(kube::ApiClient& api, const kube::ConfigMap& source, TargetOutcome& outcome,
                   const WriteOptions& options);

/// As above, with a caller's own way to plan again after a 409 (used for orphans).
void apply_outcome(kube::ApiClient& api, const Replanner& replan, TargetOutcome& outcome,
                   const WriteOptions& options);

}  // namespace cmsync
