#include "cmd_watch.hpp"

#include <fmt/format.h>

#include <memory>

#include "cluster_connections.hpp"
#include "controller/cluster_rules.hpp"
#include "controller/rule_source.hpp"
#include "controller/rule_status_writer.hpp"
#include "controller/rule_watchers.hpp"
#include "error.hpp"
#include "process_log.hpp"
#include "rules_files.hpp"
#include "stop_signals.hpp"
#include "target_options.hpp"
#include "test_hooks.hpp"
#include "util/text_escape.hpp"
#include "util/validate.hpp"
#include "watch/watcher.hpp"
#include "watch_controller.hpp"

namespace cmsync::cli {

namespace {

// How long requests in flight (writes included) may go on after SIGINT/SIGTERM.
constexpr std::chrono::seconds kStopGrace{3};

struct WatchOptions {
    TargetOptions targets;
    std::string resync_period = "5m";
    std::string state_file;
    bool prune = false;
    std::string scope = "auto";
    std::string log_format = "text";
    bool rules_from_cluster = false;
    ControllerOptions controller;
};

// Runs `f` when the scope ends, exceptions included.
class OnExit {
  public:
    explicit OnExit(std::function<void()> f) : f_(std::move(f)) {}
    ~OnExit() { f_(); }
    OnExit(const OnExit&) = delete;
    OnExit& operator=(const OnExit&) = delete;

  private:
    std::function<void()> f_;
};

// One line per action: the text says it all; JSON has it in fields for machines too. A copy in
// a named cluster is CLUSTER/NS/NAME, as sync reports it.
void log_action(const std::string& rule, const WatchAction& a) {
    const auto target = (a.cluster.empty() ? "" : a.cluster + "/") + a.target.str();
    auto text = fmt::format("{}{} {}", rule.empty() ? "" : rule + "/", target, to_string(a.action));
    if (!a.keys.empty()) {
        text += fmt::format(" ({})", fmt::join(a.keys, ", "));
    }
    if (!a.detail.empty()) {
        text += ": " + a.detail;
    }
    log::Fields fields;
    if (!rule.empty()) {
        fields.push_back({"rule", rule});
    }
    if (!a.cluster.empty()) {
        fields.push_back({"cluster", a.cluster});
    }
    fields.push_back({"target", target});
    fields.push_back({"action", to_string(a.action)});
    if (!a.keys.empty()) {
        fields.push_back({"keys", a.keys});
    }
    if (!a.detail.empty()) {
        fields.push_back({"detail", a.detail});
    }
    process_log().output(text, fields);
}

// watch's own flags, beside the target and controller ones.
void add_watch_flags(CLI::App& sub, WatchOptions& options) {
    add_target_options(sub, options.targets);
    sub.add_flag("--rules-from-cluster", options.rules_from_cluster,
                 "Run the ClusterSyncRule objects of the cluster (deploy/crds/), as they change");
    sub.add_option("--resync-period", options.resync_period,
                   "Full relist and repair this often (0 = off)");
    sub.add_option("--state-file", options.state_file,
                   "Save resourceVersions here so a restarted watch resumes");
    sub.add_flag("--prune", options.prune,
                 "When a source is deleted, remove its managed keys (and empty copies)");
    sub.add_option("--watch-scope", options.scope,
                   "auto, namespaces (a watch per namespace) or cluster (one, filtered here)")
        ->check(CLI::IsMember({"auto", "namespaces", "cluster"}));
    sub.add_option("--log-format", options.log_format, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        // As soon as it is read: a usage error found after it is a JSON line too.
        ->each([](const std::string& format) {
            process_log().set_format(format == "json" ? log::Format::json : log::Format::text);
        });
    add_controller_options(sub, options.controller);
}

// How every rule runs, as the flags say; throws UsageError.
WatchConfig make_watch_config(const WatchOptions& options, const GlobalOptions& global) {
    WatchConfig config;
    config.run = run_options(options.targets, global);
    const auto period = parse_duration(options.resync_period);
    if (!period) {
        throw UsageError(fmt::format("invalid --resync-period \"{}\"", options.resync_period));
    }
    config.resync_period = *period;
    config.state_file = options.state_file;
    config.scope = options.scope == "cluster"      ? WatchScope::cluster
                   : options.scope == "namespaces" ? WatchScope::namespaces
                                                   : WatchScope::automatic;
    config.write.force = options.targets.force;
    config.write.before_write = test_before_write_hook();
    return config;
}

// --prune applies to every rule.
std::vector<Rule> with_prune(std::vector<Rule> rules, const WatchOptions& options) {
    for (auto& rule : rules) {
        rule.spec.prune = rule.spec.prune || options.prune;
    }
    return rules;
}

// The rules as the options say.
std::vector<Rule> watched_rules(const CLI::App& sub, const WatchOptions& options,
                                const GlobalOptions& global, RulesFiles* seen) {
    return with_prune(rules_from_options(sub, options.targets, global, seen), options);
}

// --rules-from-cluster: the objects say what to sync, nothing else may.
void check_rules_from_cluster(const CLI::App& sub, const GlobalOptions& global) {
    for (const char* flag : {"namespaces", "-f", "--name", "--selector", "--all", "--keys",
                             "--target-selector", "--kind"}) {
        if (sub.count(flag) > 0) {
            throw UsageError(fmt::format(
                "--rules-from-cluster cannot be combined with {}: the rule objects say what to "
                "sync",
                std::string(flag) == "namespaces" ? "namespaces on the command line" : flag));
        }
    }
    if (!global.connection.namespace_name.empty()) {
        throw UsageError("--rules-from-cluster cannot be combined with -n");
    }
}

// The rules files as a rule source: what they hold when it changed (read each time: a
// ConfigMap volume swaps a symlink, the content is what counts), their clusters bound to
// `clusters`; none for stdin, which cannot be read again (the rules then stay as they started).
controller::RuleSource rules_file_source(const CLI::App& sub, const WatchOptions& options,
                                         const GlobalOptions& global, RulesFiles& seen,
                                         ClusterConnections& clusters) {
    const auto& files = options.targets.files;
    if (std::find(files.begin(), files.end(), "-") != files.end()) {
        return nullptr;
    }
    return [&sub, &options, &global, &seen, &clusters]() -> std::optional<controller::RuleUpdate> {
        auto now = read_rules_files(options.targets.files);
        if (now == seen) {
            return std::nullopt;
        }
        seen = std::move(now);
        try {
            auto rules = watched_rules(sub, options, global, &seen);
            clusters.bind(rules);
            return controller::RuleUpdate{std::move(rules), {}};
        } catch (const RulesError& e) {
            return controller::RuleUpdate{{}, e.lines()};
        } catch (const UsageError& e) {  // a context the kubeconfig lacks
            return controller::RuleUpdate{{}, {e.what()}};
        }
    };
}

}  // namespace

std::function<int()> setup_watch(CLI::App& app, GlobalOptions& global) {
    auto options = std::make_shared<WatchOptions>();
    auto* sub = app.add_subcommand("watch", "Keep targets in step until interrupted");
    sub->footer(R"(Examples:
  # Keep app-config of ns-a copied to ns-b and ns-c
  kubectl cmsync watch ns-a ns-b ns-c --name app-config

  # Every namespace labelled env=prod, now and later; resume after restarts
  kubectl cmsync watch -n platform --target-selector env=prod --name app-config \
    --state-file /var/lib/cmsync/state.json --log-format json

  # Every rule of a rules file; edits of the file apply without a restart
  kubectl cmsync watch -f /etc/cmsync/cmsync.yaml

  # Every ClusterSyncRule object of the cluster, as they are applied, edited and deleted
  kubectl cmsync watch --rules-from-cluster

Stops on SIGINT/SIGTERM after finishing writes in flight (exit 0).
Connection flags (--kubeconfig, --context, -n, -v, ...): kubectl cmsync --help)");
    add_watch_flags(*sub, *options);
    return [options, sub, &global] {
        // The rules and what their files held come from one read: an edit made meanwhile is
        // noticed below, not lost between two reads.
        RulesFiles seen;
        const bool from_cluster = options->rules_from_cluster;
        if (from_cluster) {
            check_rules_from_cluster(*sub, global);
        }
        auto rules =
            from_cluster ? std::vector<Rule>{} : watched_rules(*sub, *options, global, &seen);
        // Named rules (a file's, the cluster's) retry on failure; the positional one stops.
        const bool from_file = !from_cluster && !rules.front().name.empty();
        auto config = make_watch_config(*options, global);
        const auto log = [](const std::string& message) { process_log().info(message); };
        controller::WatchController controller(controller_config(options->controller), log);
        install_stop_signals();
        // Binds the rules' clusters (an unknown context: a usage error, before any request); a
        // connection per cluster, the current context's for the Lease, Events and rule objects.
        ClusterConnections clusters(global, rules,
                                    {cancel_after_stop(kStopGrace), controller.request_observer()});
        auto& connection = clusters.local();
        const WakeAfterStop wake_at_end_of_grace(kStopGrace, [&] { clusters.wake_streams(); });
        attach(controller, connection);
        // The controller's threads use the connection (and the watchers): they stop first.
        const OnExit stop_controller([&] { controller.stop(); });
        config.write.write_gate = controller.write_gate();
        const auto on_action = [&](const std::string& rule, const WatchAction& a) {
            log_action(rule, a);
            controller.on_action(rule, a);
        };
        // Stops the watchers on SIGINT/SIGTERM, or when the Lease is lost.
        std::atomic<bool> halt{false};
        std::atomic<bool> lost{false};
        const auto check_halt = [&] {
            if (!halt && controller.lost()) {
                lost = true;
                log("lost the leader Lease: exiting so that a new process starts as a candidate");
            }
            if (stop_requested() || lost) {
                halt = true;
            }
            return halt.load();
        };
        const auto finish = [&] {
            controller.stop();  // after the watchers: writes in flight ended, then the Lease goes
            log("stopped");
            return lost ? 1 : 0;
        };
        // A rules file's rule that fails tries again while the others go on; the positional
        // form's one rule ends the run with its error.
        RuleWatchers watchers(clusters, config, on_action, log,
                              from_file || from_cluster ? RuleWatchers::OnFailure::retry
                                                        : RuleWatchers::OnFailure::stop);
        watchers.apply(rules);
        controller.observe([&] { return controller::statuses_of(watchers); });
        controller.start();
        const OnExit stop_serving([&] { controller.stop(); });
        controller::ClusterRules cluster_rules(connection.api(), log);
        auto source =
            from_file ? rules_file_source(*sub, *options, global, seen, clusters) : nullptr;
        controller::FollowOptions follow;
        follow.log = log;
        controller::RuleStatusWriter statuses(connection.api(), cluster_rules, watchers,
                                              config.write.write_gate, log);
        if (from_cluster) {
            cluster_rules.start();
            source = cluster_rules.source();
            follow.name = "ClusterSyncRules";
            statuses.start();
        }
        controller::follow_rules(
            source,
            [&](const std::vector<Rule>& next) { watchers.apply(with_prune(next, *options)); },
            [&] { return check_halt() || watchers.failure(); }, follow);
        statuses.stop();
        cluster_rules.stop();
        watchers.stop_all();
        if (const auto failure = watchers.failure()) {
            std::rethrow_exception(failure);
        }
        return finish();
    };
}

}  // namespace cmsync::cli
