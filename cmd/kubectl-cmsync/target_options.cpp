#include "target_options.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "error.hpp"
#include "util/validate.hpp"

namespace cmsync::cli {

void add_kind_option(CLI::App& app, kube::Kind& kind) {
    app.add_option_function<std::string>(
           "--kind", [&kind](const std::string& word) { kind = *kube::kind_named(word); },
           "What to sync: configmap (cm, the default) or secret")
        ->type_name("KIND")
        ->check(CLI::Validator(
            [](std::string& word) -> std::string {
                return kube::kind_named(word)
                           ? std::string()
                           : fmt::format("must be configmap (cm) or secret, got \"{}\"", word);
            },
            "KIND"));
}

void add_target_options(CLI::App& app, TargetOptions& o) {
    add_kind_option(app, o.kind);
    app.add_option("-f,--filename", o.files,
                   "Rules file (SyncConfig), a folder of them, or - for stdin (repeatable)")
        ->allow_extra_args(false);  // one value per -f, as kubectl
    app.add_option("namespaces", o.namespaces,
                   "SOURCE_NS TARGET_NS... (with -n, every namespace here is a target)");
    app.add_option("--name", o.names, "Source name(s) to sync (repeatable, comma-separated)")
        ->delimiter(',');
    app.add_option("-l,--selector", o.selector, "Label selector for the sources");
    app.add_flag("--all", o.all, "Every object of --kind in the source namespace");
    app.add_option("--keys", o.keys,
                   "Keys to manage (repeatable, comma-separated; default: every source key)")
        ->delimiter(',');
    // kubectl's --context picks the one cluster of a command; these pick the source's and the
    // targets' (each default: that one). Singular and repeatable as kubectl's --as-group; the
    // plural spelling is accepted too.
    app.add_option("--source-context", o.source_context,
                   "Kubeconfig context of the source's cluster (default: --context or the "
                   "current context)");
    app.add_option("--target-context,--target-contexts", o.target_contexts,
                   "Kubeconfig contexts of the target clusters, each synced on its own "
                   "(repeatable, comma-separated; default: --context or the current context)")
        ->delimiter(',')
        ->allow_extra_args(false);  // one value per flag: namespaces may follow it
    app.add_option("--target-selector", o.target_selector,
                   "Label selector picking target namespaces");
    app.add_flag("--force", o.force,
                 "Overwrite conflicting keys and take over copies owned by other sources");
    app.add_option("--concurrency", o.concurrency, "Targets handled at once")
        ->check(whole_number(1, 256));
}

namespace {

// A cluster named on the command line: by its context, under the context's name.
ClusterRef context_cluster(const std::string& context, const char* flag) {
    if (context.empty()) {
        throw UsageError(fmt::format("{}: empty context name", flag));
    }
    return ClusterRef{context, context};
}

}  // namespace

SyncSpec make_sync_spec(const CLI::App& app, const TargetOptions& o, const GlobalOptions& global) {
    SyncSpec r;
    r.kind = o.kind;
    if (app.count("--source-context") > 0) {
        r.source_cluster = context_cluster(o.source_context, "--source-context");
    }
    for (const auto& context : o.target_contexts) {
        const auto ref = context_cluster(context, "--target-context");
        if (std::find(r.target_clusters.begin(), r.target_clusters.end(), ref) !=
            r.target_clusters.end()) {
            throw UsageError(fmt::format("--target-context \"{}\" is given twice", context));
        }
        r.target_clusters.push_back(ref);
    }
    const auto targets = target_clusters(r);
    // Only in the source's own cluster is a namespace of its name the source namespace (with
    // the current context on one side, the check is made again once it is known).
    const bool source_cluster_is_target =
        std::find(targets.begin(), targets.end(), r.source_cluster) != targets.end();
    auto positional = o.namespaces;
    if (!global.connection.namespace_name.empty()) {
        r.source_namespace = global.connection.namespace_name;
    } else if (!positional.empty()) {
        r.source_namespace = positional.front();
        positional.erase(positional.begin());
    } else {
        throw UsageError("no source namespace: give SOURCE_NS TARGET_NS... or -n SOURCE_NS");
    }
    if (const auto why = invalid_namespace(r.source_namespace)) {
        throw UsageError(*why);
    }
    for (const auto& ns : positional) {
        if (const auto why = invalid_namespace(ns)) {
            throw UsageError(*why);
        }
        if (source_cluster_is_target && ns == r.source_namespace) {
            throw UsageError(fmt::format("target namespace \"{}\" is the source namespace", ns));
        }
    }
    r.target_namespaces = positional;
    r.target_selector = o.target_selector;
    if (r.target_namespaces.empty() && r.target_selector.empty()) {
        throw UsageError("no target namespace: give TARGET_NS... or --target-selector");
    }
    const int selections =
        (o.names.empty() ? 0 : 1) + (o.selector.empty() ? 0 : 1) + (o.all ? 1 : 0);
    if (selections == 0) {
        throw UsageError("no selection: give --name NAME, -l/--selector LABELS or --all");
    }
    if (selections > 1) {
        throw UsageError("give only one of --name, -l/--selector and --all");
    }
    for (const auto& name : o.names) {
        if (const auto why = invalid_object_name(o.kind.name, name)) {
            throw UsageError(*why);
        }
    }
    r.selection = Selection{o.names, o.selector, o.all};
    if (app.count("--keys") > 0) {
        for (const auto& key : o.keys) {
            if (const auto why = invalid_key(key)) {
                throw UsageError(*why);
            }
        }
        r.keys = o.keys;
    }
    return r;
}

RunOptions run_options(const TargetOptions& o, const GlobalOptions& global) {
    return RunOptions{o.force, global.chunk_size, o.concurrency};
}

}  // namespace cmsync::cli
