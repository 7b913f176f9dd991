// kubectl-cmsync: keeps ConfigMaps in step across namespaces. This file only wires the
// subcommands together and maps failures to exit codes.
#include <fmt/format.h>
#include <malloc.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "cmd_diff.hpp"
#include "cmd_resync.hpp"
#include "cmd_sync.hpp"
#include "cmd_validate.hpp"
#include "cmd_version.hpp"
#include "cmd_watch.hpp"
#include "complete.hpp"
#include "error.hpp"
#include "global_options.hpp"
#include "process_log.hpp"
#include "rules_files.hpp"
#include "util/text_escape.hpp"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 2;

}  // namespace

int main(int argc, char** argv) {
    // Buffers of 256 KiB and more (list pages of megabytes) get mappings of their own, given
    // back when freed. glibc otherwise raises this threshold after the first such free and
    // serves them from heaps where they fragment: peak memory then grew with the number of
    // pages (resync -A: 41 MiB at 10,000 copies, 51 MiB at 100,000; fixed: 33 and 34).
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    // Two heaps for every thread, not glibc's eight per core: the threads mostly wait on the
    // network, and each heap keeps what its threads freed. resync starts its workers afresh
    // for each page, so more heaps kept more of it as pages went by (resync -A, 3 runs each:
    // 33.0-34.0 MiB at 10,000 copies, 35.5-37.2 at 100,000; with two heaps 31.3-31.4 and
    // 31.3-31.6, in the same time).
    mallopt(M_ARENA_MAX, 2);
    CLI::App app("Keep ConfigMaps in step across Kubernetes namespaces.", "kubectl cmsync");
    app.require_subcommand(1);
    app.footer(R"(Examples:
  kubectl cmsync diff ns-a ns-b ns-c --name app-config
  kubectl cmsync sync ns-a ns-b ns-c --name app-config --keys config.yaml
  kubectl cmsync watch ns-a ns-b ns-c --name app-config
  kubectl cmsync resync -A
  kubectl cmsync sync -f cmsync.yaml        # every rule of a rules file (SyncConfig)
  kubectl cmsync version

Run 'kubectl cmsync COMMAND --help' for a command's flags.)");
    cmsync::cli::GlobalOptions global;
    cmsync::cli::add_global_options(app, global);
    std::vector<std::function<int()>> runners;
    runners.push_back(cmsync::cli::setup_version(app));
    runners.push_back(cmsync::cli::setup_diff(app, global));
    runners.push_back(cmsync::cli::setup_sync(app, global));
    runners.push_back(cmsync::cli::setup_watch(app, global));
    runners.push_back(cmsync::cli::setup_resync(app, global));
    runners.push_back(cmsync::cli::setup_validate(app));
    runners.push_back(cmsync::cli::setup_completion(app));
    for (auto* sub : app.get_subcommands({})) {
        sub->fallthrough();  // connection flags may stand before or after the command
    }

    if (argc >= 2 && std::string(argv[1]) == "__complete") {
        return cmsync::cli::run_complete(app, std::vector<std::string>(argv + 2, argv + argc));
    }
    // One-shot commands print `error: ...` for people; `watch --log-format json` has switched
    // the process log to JSON, and then its last line is a JSON error line too.
    const auto error_line = [](const std::string& message) {
        auto& log = cmsync::cli::process_log();
        if (log.format() == cmsync::log::Format::json) {
            log.error(message);
        } else {
            std::cerr << "error: " << cmsync::escape_control(message) << "\n";
        }
    };
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string message = e.what();
        if (message.empty()) {
            message = "invalid arguments";
        }
        error_line(message + " (see 'kubectl cmsync --help')");
        return kExitUsage;
    }
    const auto subs = app.get_subcommands();
    std::size_t index = 0;
    for (const auto* candidate : app.get_subcommands({})) {
        if (candidate == subs.front()) {
            break;
        }
        ++index;
    }
    try {
        cmsync::cli::finish_global_options(app, global);
        return runners.at(index)();
    } catch (const cmsync::cli::RulesError& e) {
        for (const auto& line : e.lines()) {
            error_line(line);
        }
        return kExitUsage;
    } catch (const cmsync::UsageError& e) {
        error_line(
            fmt::format("{} (see 'kubectl cmsync {} --help')", e.what(), subs.front()->get_name()));
        return kExitUsage;
    } catch (const std::exception& e) {
        error_line(e.what());
        return kExitFailed;
    }
}
