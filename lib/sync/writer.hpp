#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kube/api_client.hpp"
#include "plan/outcome.hpp"

namespace cmsync {

/// Until when this replica may write: nothing holds the write back (a standby, or a leader
/// past its renew deadline); a time bounds it (kube::Until: the server drops it if it cannot
/// be made by then), so that no write of a term lands after another replica took over.
using WriteGate = std::function<std::optional<std::chrono::steady_clock::time_point>()>;

struct WriteOptions {
    DryRunMode dry_run = DryRunMode::none;
    std::optional<std::vector<std::string>> keys;
    bool force = false;
    /// The source's cluster as copies record it (MergeInput::source_cluster): empty when the
    /// target is in the source's cluster.
    std::string source_cluster;
    /// 409 Conflict answers that are met by reading, planning and writing again.
    int max_conflict_retries = 5;
    std::function<void(std::chrono::milliseconds)> sleep;  ///< between conflict retries
    std::function<double()> jitter;                        ///< in [0, 1)
    /// Runs right before each write request (tests use it to race another writer).
    std::function<void(const kube::Object& desired)> before_write;
    /// Asked right before each write request (WriteGate). Unset: every write may go.
    WriteGate write_gate;
    /// Told each state of the target the writer learns: the server's answer to a write (not in
    /// dry runs), a fresh read after a 409, nothing after a delete (the watcher's copy cache).
    std::function<void(const std::string& ns, const std::string& name,
                       const std::optional<kube::Object>& now)>
        observed;
};

/// Plans again from a fresh read of the target (nothing: it is gone).
using Replanner = std::function<TargetPlan(const std::optional<kube::Object>& target)>;

/// Carries out `outcome.plan` for one target: POST a missing copy, PUT with the target's
/// resourceVersion, or (immutable + --force) delete and re-create. On 409 Conflict it reads
/// the target again, plans again and retries (bounded, jittered); so it does on 409
/// AlreadyExists after a create and on 404 after an update (the copy it planned from is gone).
/// Errors end up in `outcome.error`; nothing is thrown for API or transport failures of this
/// target.
void apply_outcome(kube::ApiClient& api, const kube::Object& source, TargetOutcome& outcome,
                   const WriteOptions& options);

/// As above, with a caller's own way to plan again after a 409 (used for orphans).
void apply_outcome(kube::ApiClient& api, const Replanner& replan, TargetOutcome& outcome,
                   const WriteOptions& options);

}  // namespace cmsync
