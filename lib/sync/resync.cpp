#include "sync/resync.hpp"

#include <fmt/format.h>

#include "plan/ownership.hpp"
#include "util/parallel.hpp"

namespace cmsync {

namespace {

// Sources read so far: the source, nothing when it is gone, or the read error.
struct SourceEntry {
    std::optional<kube::Object> source;
    std::string error;
};

// A source by the cluster a copy records it in (empty: the copy's own) and its NS/NAME.
using SourceKey = std::pair<std::string, kube::ObjectRef>;
using Sources = std::map<SourceKey, SourceEntry>;

ResyncOutcome resync_copy(kube::ApiClient& api, const kube::Object& copy, const Sources& sources,
                          const ResyncRequest& request) {
    ResyncOutcome out;
    auto& o = out.target;
    o.kind = request.kind;
    o.target = copy.ref();
    WriteOptions write;
    write.dry_run = request.dry_run;
    write.force = request.force;
    const auto from = sync_from(copy);
    const auto cluster = sync_from_cluster(copy);
    const auto it = from ? sources.find({cluster, *from}) : sources.end();
    if (from && !cluster.empty() && it == sources.end()) {
        // Its source is in another cluster, which this run cannot reach: a namesake here is
        // not it (issue 30).
        o.source = *from;
        o.source_cluster = cluster;
        o.error = fmt::format(
            "source is in cluster \"{}\": resync reads sources in this "
            "cluster only (sync it with --source-context)",
            cluster);
        out.kind = ResyncKind::error;
        return out;
    }
    if (it == sources.end()) {
        o.error =
            fmt::format("annotation {} is missing or not NAMESPACE/NAME", kSyncFromAnnotation);
        out.kind = ResyncKind::error;
        return out;
    }
    o.source = *from;
    o.source_cluster = cluster;
    write.source_cluster = cluster;
    if (!it->second.error.empty()) {
        o.error = it->second.error;
        out.kind = ResyncKind::error;
        return out;
    }
    if (!it->second.source) {
        o.plan = plan_orphan(copy, *from, request.prune, request.force, cluster);
        const Replanner replan = [&](const std::optional<kube::Object>& current) {
            return current ? plan_orphan(*current, *from, request.prune, request.force, cluster)
                           : TargetPlan{};
        };
        apply_outcome(api, replan, o, write);
        out.kind = sync_result(o) == SyncResult::error ? ResyncKind::error : ResyncKind::orphaned;
        return out;
    }
    const auto record = write_record(copy);
    const auto& recorded = record.hashes;
    if (!recorded) {
        o.error = unreadable_record(copy.kind, true);
        out.kind = ResyncKind::error;
        return out;
    }
    std::vector<std::string> keys;
    for (const auto& [key, hash] : *recorded) {
        keys.push_back(key);
    }
    write.keys = keys;
    o.plan = plan_target(
        {&*it->second.source, &copy, copy.namespace_name, keys, request.force, nullptr, cluster});
    apply_outcome(api, *it->second.source, o, write);
    out.kind = resync_kind(sync_result(o));
    return out;
}

// Reads each source the page's copies name that is not read yet, in the cluster each records.
void read_sources(kube::ApiClient& api, const std::vector<kube::Object>& page, Sources& sources,
                  const ResyncRequest& request) {
    for (const auto& copy : page) {
        const auto from = sync_from(copy);
        const auto cluster = sync_from_cluster(copy);
        if (!from || sources.count({cluster, *from}) != 0 ||
            (!cluster.empty() && !request.cluster_api)) {
            continue;
        }
        SourceEntry entry;
        try {
            auto& source_api = cluster.empty() ? api : request.cluster_api(cluster);
            entry.source = source_api.get(request.kind, from->namespace_name, from->name);
            if (entry.source) {
                entry.source->raw.clear();
            }
        } catch (const std::exception& e) {
            entry.error = e.what();
        }
        sources.emplace(SourceKey{cluster, *from}, std::move(entry));
    }
}

void handle_page(kube::ApiClient& api, std::vector<kube::Object>& page, Sources& sources,
                 const ResyncRequest& request, ResyncSummary& summary,
                 const std::function<void(const ResyncOutcome&)>& on_outcome) {
    read_sources(api, page, sources, request);
    std::vector<ResyncOutcome> outcomes(page.size());
    parallel_for(page.size(), request.concurrency,
                 [&](std::size_t i) { outcomes[i] = resync_copy(api, page[i], sources, request); });
    for (const auto& o : outcomes) {
        ++summary.counts[o.kind];
        on_outcome(o);
    }
}

}  // namespace

ResyncSummary resync(kube::ApiClient& api, const ResyncRequest& request,
                     const std::function<void(const ResyncOutcome&)>& on_outcome) {
    ResyncSummary summary;
    Sources sources;
    const kube::ListOptions options{std::string(kManagedLabel) + "=true", "", request.chunk_size};
    const auto scopes =
        request.namespaces.empty() ? std::vector<std::string>{""} : request.namespaces;
    for (const auto& ns : scopes) {
        try {
            api.list(request.kind, ns, options,
                     [&](std::vector<kube::Object>&& page, bool restart) {
                         if (restart) {
                             // The continue token expired: the list starts over. Copies
                             // handled before are in step now, so handling them again
                             // writes nothing.
                             ++summary.list_restarts;
                             summary.counts.clear();
                         }
                         handle_page(api, page, sources, request, summary, on_outcome);
                         std::vector<kube::Object>().swap(page);  // freed first
                         if (request.after_page) {
                             request.after_page();
                         }
                     });
        } catch (const std::exception& e) {
            summary.namespace_errors.push_back(e.what());
        }
    }
    return summary;
}

}  // namespace cmsync
