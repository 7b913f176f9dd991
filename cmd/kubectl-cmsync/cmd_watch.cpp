#include "cmd_watch.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "connection.hpp"
#include "error.hpp"
#include "kube/json.hpp"
#include "rules/rule_watchers.hpp"
#include "rules_files.hpp"
#include "stop_signals.hpp"
#include "sync/text_escape.hpp"
#include "sync/validate.hpp"
#include "sync/watcher.hpp"
#include "target_options.hpp"
#include "test_hooks.hpp"
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

std::string now_utc() {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                       fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms.count());
}

std::string json_line(const std::vector<std::pair<std::string, std::string>>& fields,
                      const std::vector<std::string>& keys) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    for (const auto& [k, v] : fields) {
        if (!v.empty()) {
            doc.AddMember(rapidjson::Value(k, a), rapidjson::Value(v, a), a);
        }
    }
    if (!keys.empty()) {
        rapidjson::Value list(rapidjson::kArrayType);
        for (const auto& key : keys) {
            list.PushBack(rapidjson::Value(key, a), a);
        }
        doc.AddMember("keys", list, a);
    }
    return kube::to_json(doc);
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

Stops on SIGINT/SIGTERM after finishing writes in flight (exit 0).
Connection flags (--kubeconfig, --context, -n, -v, ...): kubectl cmsync --help)");
    add_target_options(*sub, options->targets);
    sub->add_option("--resync-period", options->resync_period,
                    "Full relist and repair this often (0 = off)");
    sub->add_option("--state-file", options->state_file,
                    "Save resourceVersions here so a restarted watch resumes");
    sub->add_flag("--prune", options->prune,
                  "When a source is deleted, remove its managed keys (and empty copies)");
    sub->add_option("--watch-scope", options->scope,
                    "auto, namespaces (a watch per namespace) or cluster (one, filtered here)")
        ->check(CLI::IsMember({"auto", "namespaces", "cluster"}));
    sub->add_option("--log-format", options->log_format, "text or json")
        ->check(CLI::IsMember({"text", "json"}));
    add_controller_options(*sub, options->controller);
    return [options, sub, &global] {
        // The rules and what their files held come from one read: an edit made meanwhile is
        // noticed below, not lost between two reads.
        RulesFiles seen;
        const auto rules = rules_from_options(*sub, options->targets, global, &seen);
        const bool from_file = !rules.front().name.empty();
        WatchConfig config;
        config.request = rules.front().request;
        const auto period = parse_duration(options->resync_period);
        if (!period) {
            throw UsageError(fmt::format("invalid --resync-period \"{}\"", options->resync_period));
        }
        config.resync_period = *period;
        config.state_file = options->state_file;
        config.prune = options->prune;
        config.scope = options->scope == "cluster"      ? WatchScope::cluster
                       : options->scope == "namespaces" ? WatchScope::namespaces
                                                        : WatchScope::automatic;
        config.write.keys = config.request.keys;
        config.write.force = options->targets.force;
        config.write.before_write = test_before_write_hook();
        const bool json = options->log_format == "json";
        auto out_mutex = std::make_shared<std::mutex>();
        const auto on_rule_action = [json, out_mutex](const std::string& rule,
                                                      const WatchAction& a) {
            std::string line;
            if (json) {
                line = json_line({{"time", now_utc()},
                                  {"rule", rule},
                                  {"target", a.target},
                                  {"action", a.action},
                                  {"detail", a.detail}},
                                 a.keys);
            } else {
                line = fmt::format("{} {}{} {}", now_utc(), rule.empty() ? "" : rule + "/",
                                   a.target, a.action);
                if (!a.keys.empty()) {
                    line += fmt::format(" ({})", fmt::join(a.keys, ", "));
                }
                if (!a.detail.empty()) {
                    line += ": " + a.detail;
                }
                line = escape_control(line);
            }
            std::lock_guard guard(*out_mutex);
            std::cout << line << std::endl;
        };
        const auto log = [json, out_mutex](const std::string& message) {
            std::lock_guard guard(*out_mutex);
            if (json) {
                std::cerr << json_line({{"time", now_utc()}, {"info", message}}, {}) << std::endl;
            } else {
                std::cerr << now_utc() << " " << escape_control(message) << std::endl;
            }
        };
        WatchController controller(options->controller, log);
        install_stop_signals();
        Connection connection(global, cancel_after_stop(kStopGrace), controller.request_observer());
        controller.attach(connection);
        // The controller's threads use the connection (and the watchers): they stop first.
        const OnExit stop_controller([&] { controller.stop(); });
        config.write.may_write = controller.write_gate();
        const auto on_action = [&](const std::string& rule, const WatchAction& a) {
            on_rule_action(rule, a);
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
        if (!from_file) {
            Watcher watcher(
                connection.api(), config, [&](const WatchAction& a) { on_action("", a); }, log);
            const auto label = config.request.source_namespace;
            controller.start([&](const auto& f) { f(label, &watcher, false); });
            const OnExit stop_serving([&] { controller.stop(); });
            std::thread monitor([&] {
                while (!check_halt()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                }
            });
            try {
                watcher.run(halt);
            } catch (...) {
                halt = true;
                monitor.join();
                throw;
            }
            halt = true;
            monitor.join();
            return finish();
        }
        RuleWatchers watchers(connection.api(), config, on_action, log);
        watchers.apply(rules);
        controller.start([&](const auto& f) { watchers.visit(f); });
        const OnExit stop_serving([&] { controller.stop(); });
        // A ConfigMap volume swaps a symlink when the rules change: the content is what counts.
        const auto& files = options->targets.files;
        // Rules from stdin cannot be read again: then the rules stay as they started.
        const bool reload = std::find(files.begin(), files.end(), "-") == files.end();
        while (!check_halt()) {
            for (int i = 0; i < 10 && !check_halt(); ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            if (!reload) {
                continue;
            }
            auto now = read_rules_files(files);
            if (halt || now == seen) {
                continue;
            }
            seen = std::move(now);
            try {
                const auto next = rules_from_options(*sub, options->targets, global, &seen);
                log(fmt::format("rules file changed: {} rule(s)", next.size()));
                watchers.apply(next);
            } catch (const RulesError& e) {
                for (const auto& line : e.lines()) {
                    log("invalid rules file, the running rules stay: " + line);
                }
            }
        }
        watchers.stop_all();
        return finish();
    };
}

}  // namespace cmsync::cli
