#include "sync/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "kube/api_error.hpp"
#include "util/parallel.hpp"

namespace cmsync {

namespace {

// Up to this many sources, a target namespace is read with one GET per name.
constexpr std::size_t kMaxGetsPerNamespace = 8;
// From this many target namespaces on, the copies of a few named sources are read with one
// cluster-wide list per name (fieldSelector metadata.name) instead of a GET per namespace.
constexpr std::size_t kMinTargetsForClusterRead = 50;

using Prefetched = std::map<std::string, std::map<std::string, kube::Object>>;  // ns -> name

// The copies in `targets` of each source, from cluster-scope lists; nothing when the user may
// not list cluster-wide (namespace-scoped Roles are enough for cmsync: fall back to GETs).
std::optional<Prefetched> read_targets_cluster_wide(kube::ApiClient& api,
                                                    const std::vector<kube::Object>& sources,
                                                    const std::vector<std::string>& targets,
                                                    int chunk_size) {
    // A sensitive kind is read by name in each target only: never a Secret of another
    // namespace, and Roles with resourceNames suffice.
    if (targets.size() < kMinTargetsForClusterRead || sources.size() > kMaxGetsPerNamespace ||
        (!sources.empty() && sources.front().kind.sensitive)) {
        return std::nullopt;
    }
    const std::set<std::string> wanted(targets.begin(), targets.end());
    Prefetched out;
    try {
        for (const auto& source : sources) {
            const kube::ListOptions options{"", "metadata.name=" + source.name, chunk_size};
            api.list(source.kind, "", options,
                     [&](std::vector<kube::Object>&& items, bool restart) {
                         if (restart) {
                             for (auto& [ns, copies] : out) {
                                 copies.erase(source.name);
                             }
                         }
                         for (auto& cm : items) {
                             if (wanted.count(cm.namespace_name) != 0) {
                                 auto ns = cm.namespace_name;
                                 out[ns].insert_or_assign(source.name, std::move(cm));
                             }
                         }
                     });
        }
    } catch (const ApiError&) {
        return std::nullopt;  // e.g. 403 without a ClusterRole
    }
    return out;
}

// Whether namespace `ns` is known to be missing; `probe` is a copy that would be created there.
bool namespace_missing(kube::ApiClient& api, const std::string& ns, const kube::Object& probe) {
    try {
        return !api.namespace_exists(ns);
    } catch (const ApiError& e) {
        if (e.code() != 403) {
            return false;  // cannot tell: the plan stands
        }
    }
    try {
        api.create(probe, kube::DryRun::server);  // stores nothing
    } catch (const ApiError& e) {
        return e.code() == 404;
    }
    return false;
}

}  // namespace

void check_target_namespaces(kube::ApiClient& api, std::vector<TargetOutcome>& outcomes,
                             int concurrency) {
    std::map<std::string, std::vector<TargetOutcome*>> creates;  // namespace -> its creates
    for (auto& o : outcomes) {
        if (o.error.empty() && o.plan.action == TargetAction::create && o.plan.desired) {
            creates[o.target.namespace_name].push_back(&o);
        }
    }
    std::vector<std::pair<const std::string, std::vector<TargetOutcome*>>*> list;
    for (auto& entry : creates) {
        list.push_back(&entry);
    }
    parallel_for(list.size(), concurrency, [&](std::size_t i) {
        const auto& [ns, targets] = *list[i];
        if (!namespace_missing(api, ns, *targets.front()->plan.desired)) {
            return;
        }
        for (auto* o : targets) {
            const kube::Operation op{"create", std::string(o->plan.desired->kind.resource),
                                     o->target.name, ns};
            o->error = fmt::format("{}: not found: namespaces \"{}\" not found", op.describe(), ns);
        }
    });
}

std::vector<kube::Object> read_sources(kube::ApiClient& api, const SyncSpec& spec, int chunk_size,
                                       std::vector<std::string>* missing) {
    std::vector<kube::Object> sources;
    const auto& sel = spec.selection;
    if (!sel.names.empty()) {
        for (const auto& name : sel.names) {
            auto cm = api.get(spec.kind, spec.source_namespace, name);
            if (!cm && missing != nullptr) {
                missing->push_back(name);
                continue;
            }
            if (!cm) {
                throw Error(fmt::format("source {} \"{}\" not found in namespace \"{}\"",
                                        spec.kind.name, name, spec.source_namespace));
            }
            sources.push_back(std::move(*cm));
        }
    } else {
        kube::ListOptions options{sel.all ? "" : sel.label_selector, "", chunk_size};
        api.list(spec.kind, spec.source_namespace, options,
                 [&](std::vector<kube::Object>&& items, bool restart) {
                     if (restart) {
                         sources.clear();
                     }
                     for (auto& cm : items) {
                         cm.raw.clear();  // sources are only read
                         sources.push_back(std::move(cm));
                     }
                 });
    }
    std::sort(sources.begin(), sources.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    sources.erase(std::unique(sources.begin(), sources.end(),
                              [](const auto& a, const auto& b) { return a.name == b.name; }),
                  sources.end());
    return sources;
}

std::vector<std::string> resolve_targets(kube::ApiClient& api, const SyncSpec& spec, int chunk_size,
                                         bool same_cluster) {
    auto targets = spec.target_namespaces;
    if (!spec.target_selector.empty()) {
        for (auto& ns : api.list_namespace_names(spec.target_selector, chunk_size)) {
            targets.push_back(std::move(ns));
        }
    }
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    std::erase_if(targets,
                  [&](const std::string& ns) { return !may_target(spec, ns, same_cluster); });
    return targets;
}

std::vector<std::optional<kube::Object>> read_targets(kube::ApiClient& api, const std::string& ns,
                                                      const std::vector<kube::Object>& sources,
                                                      int chunk_size) {
    std::vector<std::optional<kube::Object>> out(sources.size());
    // A sensitive kind is read by name only: a list would read every Secret of the namespace.
    if (sources.size() <= kMaxGetsPerNamespace ||
        (!sources.empty() && sources.front().kind.sensitive)) {
        for (std::size_t i = 0; i < sources.size(); ++i) {
            out[i] = api.get(sources[i].kind, ns, sources[i].name);
        }
        return out;
    }
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < sources.size(); ++i) {
        index.emplace(sources[i].name, i);
    }
    api.list(sources.front().kind, ns, kube::ListOptions{"", "", chunk_size},
             [&](std::vector<kube::Object>&& items, bool restart) {
                 if (restart) {
                     std::fill(out.begin(), out.end(), std::nullopt);
                 }
                 for (auto& cm : items) {
                     if (const auto it = index.find(cm.name); it != index.end()) {
                         out[it->second] = std::move(cm);
                     }
                 }
             });
    return out;
}

std::vector<TargetOutcome> plan_all(kube::ApiClient& api, const SyncSpec& spec,
                                    const RunOptions& run, const std::vector<kube::Object>& sources,
                                    const std::vector<std::string>& targets,
                                    const OutcomeHandler& handle, const PlanClusters& clusters) {
    auto prefetched = read_targets_cluster_wide(api, sources, targets, run.chunk_size);
    std::vector<KeyHashes> digests;  // of each source's values: hashed once, not per target
    digests.reserve(sources.size());
    for (const auto& source : sources) {
        digests.push_back(value_digests(source));
    }
    std::vector<std::vector<TargetOutcome>> per_namespace(targets.size());
    parallel_for(targets.size(), run.concurrency, [&](std::size_t t) {
        const auto& ns = targets[t];
        auto& outcomes = per_namespace[t];
        std::vector<std::optional<kube::Object>> current;
        std::string read_error;
        try {
            if (prefetched) {
                current.resize(sources.size());
                const auto copies = prefetched->find(ns);
                for (std::size_t i = 0; copies != prefetched->end() && i < sources.size(); ++i) {
                    if (const auto it = copies->second.find(sources[i].name);
                        it != copies->second.end()) {
                        current[i] = it->second;
                    }
                }
            } else {
                current = read_targets(api, ns, sources, run.chunk_size);
            }
        } catch (const std::exception& e) {
            read_error = e.what();
        }
        for (std::size_t i = 0; i < sources.size(); ++i) {
            TargetOutcome o{sources[i].ref(), {ns, sources[i].name}, {}, read_error};
            o.kind = spec.kind;
            o.cluster = clusters.target;
            o.source_cluster = clusters.source;
            if (read_error.empty()) {
                const MergeInput input{&sources[i],
                                       current[i] ? &*current[i] : nullptr,
                                       ns,
                                       spec.keys,
                                       run.force,
                                       &digests[i],
                                       clusters.recorded_source};
                o.plan = plan_target(input);
                if (handle) {
                    handle(o, sources[i]);
                }
            }
            outcomes.push_back(std::move(o));
        }
    });
    std::vector<TargetOutcome> all;
    for (auto& group : per_namespace) {
        std::move(group.begin(), group.end(), std::back_inserter(all));
    }
    return all;
}

}  // namespace cmsync
