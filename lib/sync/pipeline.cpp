#include "sync/pipeline.hpp"

#include "sync/planner.hpp"

namespace cmsync {

SpecRun run_spec(kube::ApiClient& api, const SyncSpec& spec, const RunOptions& run,
                 const WriteOptions* write) {
    SpecRun out;
    const auto sources = read_sources(api, spec, run.chunk_size);
    out.no_sources = sources.empty();
    const auto targets = resolve_targets(api, spec, run.chunk_size);
    const bool writes = write != nullptr && write->dry_run != DryRunMode::client;
    OutcomeHandler apply;
    WriteOptions options = write != nullptr ? *write : WriteOptions{};
    options.keys = spec.keys;
    options.force = run.force;
    if (writes) {
        apply = [&](TargetOutcome& outcome, const kube::Object& source) {
            apply_outcome(api, source, outcome, options);
            keep_summary_only(outcome);  // the report is all that is left to do
        };
    }
    out.outcomes = plan_all(api, spec, run, sources, targets, apply);
    if (!writes) {
        check_target_namespaces(api, out.outcomes, run.concurrency);
    }
    return out;
}

}  // namespace cmsync
