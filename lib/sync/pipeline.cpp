#include "sync/pipeline.hpp"

#include <algorithm>
#include <exception>
#include <iterator>

#include "sync/planner.hpp"
#include "util/parallel.hpp"

namespace cmsync {

namespace {

// What one target cluster of a run did.
struct ClusterRun {
    std::vector<TargetOutcome> outcomes;
    std::optional<ClusterFailure> failure;
};

// The named targets of `spec` in a cluster whose targets could not be resolved, each failed
// with `error` (the selector's namespaces cannot be known).
std::vector<TargetOutcome> failed_targets(const SyncSpec& spec,
                                          const std::vector<kube::Object>& sources,
                                          const PlanClusters& clusters, bool same,
                                          const std::string& error) {
    std::vector<TargetOutcome> out;
    for (const auto& ns : spec.target_namespaces) {
        if (!may_target(spec, ns, same)) {
            continue;
        }
        for (const auto& source : sources) {
            TargetOutcome o{source.ref(), {ns, source.name}, {}, error};
            o.kind = spec.kind;
            o.cluster = clusters.target;
            o.source_cluster = clusters.source;
            out.push_back(std::move(o));
        }
    }
    return out;
}

ClusterRun run_cluster(const ClusterClient& source, const ClusterClient& target,
                       const SyncSpec& spec, const RunOptions& run, const WriteOptions* write,
                       const std::vector<kube::Object>& sources) {
    ClusterRun out;
    auto& api = *target.api;
    const bool same = target.name == source.name;
    const PlanClusters clusters{target.name, source.name, same ? std::string() : source.name};
    std::vector<std::string> targets;
    try {
        targets = resolve_targets(api, spec, run.chunk_size, same);
    } catch (const std::exception& e) {
        if (target.name.empty()) {
            throw;  // the only cluster: the rule cannot run, as before clusters
        }
        out.failure = ClusterFailure{target.name, e.what()};
        out.outcomes = failed_targets(spec, sources, clusters, same, e.what());
        return out;
    }
    const bool writes = write != nullptr && write->dry_run != DryRunMode::client;
    OutcomeHandler apply;
    WriteOptions options = write != nullptr ? *write : WriteOptions{};
    options.keys = spec.keys;
    options.force = run.force;
    options.source_cluster = clusters.recorded_source;
    if (writes) {
        apply = [&](TargetOutcome& outcome, const kube::Object& source_object) {
            apply_outcome(api, source_object, outcome, options);
            keep_summary_only(outcome);  // the report is all that is left to do
        };
    }
    out.outcomes = plan_all(api, spec, run, sources, targets, apply, clusters);
    if (!writes) {
        check_target_namespaces(api, out.outcomes, run.concurrency);
    }
    return out;
}

}  // namespace

SpecRun run_spec(kube::ApiClient& api, const SyncSpec& spec, const RunOptions& run,
                 const WriteOptions* write) {
    return run_spec(ClusterClient{"", &api}, {ClusterClient{"", &api}}, spec, run, write);
}

SpecRun run_spec(const ClusterClient& source, const std::vector<ClusterClient>& targets,
                 const SyncSpec& spec, const RunOptions& run, const WriteOptions* write) {
    SpecRun out;
    const auto sources = read_sources(*source.api, spec, run.chunk_size);
    out.no_sources = sources.empty();
    if (targets.size() == 1) {
        auto done = run_cluster(source, targets.front(), spec, run, write, sources);
        out.outcomes = std::move(done.outcomes);
        if (done.failure) {
            out.failed_clusters.push_back(std::move(*done.failure));
        }
        return out;
    }
    // Each cluster at once: one that is slow or down holds back only its own targets; each
    // writes at --concurrency, as one cluster alone does.
    std::vector<ClusterRun> runs(targets.size());
    parallel_loops(targets.size(), run.concurrency, [&](std::size_t i) {
        try {
            runs[i] = run_cluster(source, targets[i], spec, run, write, sources);
        } catch (const std::exception& e) {  // named clusters only: never thrown for one
            runs[i].failure = ClusterFailure{targets[i].name, e.what()};
        }
    });
    for (auto& done : runs) {
        std::move(done.outcomes.begin(), done.outcomes.end(), std::back_inserter(out.outcomes));
        if (done.failure) {
            out.failed_clusters.push_back(std::move(*done.failure));
        }
    }
    return out;
}

}  // namespace cmsync
