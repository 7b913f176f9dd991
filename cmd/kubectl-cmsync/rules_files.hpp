#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "error.hpp"
#include "global_options.hpp"
#include "rules/sync_config.hpp"
#include "target_options.hpp"

namespace cmsync::cli {

/// Problems in rules files, one line each ("FILE:LINE:COLUMN: ..."); exit 2, nothing sent.
class RulesError : public UsageError {
  public:
    explicit RulesError(std::vector<std::string> lines)
        : UsageError(lines.empty() ? std::string() : lines.front()), lines_(std::move(lines)) {}
    const std::vector<std::string>& lines() const { return lines_; }

  private:
    std::vector<std::string> lines_;
};

/// What the -f arguments held when they were read, file by file in order. Equal when every
/// file holds the same text: `watch -f` compares them to notice an edit however it was made.
struct RulesFiles {
    struct File {
        std::string name;  ///< "-" for stdin
        std::string text;
        std::string error;  ///< not read: why (an empty folder, an unreadable file)
        bool operator==(const File&) const = default;
    };
    std::vector<File> files;
    bool operator==(const RulesFiles&) const = default;
};

/// Reads every -f argument once, as kubectl reads -f: a file, a folder (its *.yaml, *.yml
/// and *.json files, sorted), or "-" for stdin (read once).
RulesFiles read_rules_files(const std::vector<std::string>& paths);
/// The rules of what was read, checked in full; throws RulesError. Rule objects are read
/// (validate) or refused (what runs them is watch --rules-from-cluster).
/// `grants`, when given, gets the valid SyncGrant documents (with RuleObjects::accept).
std::vector<Rule> load_rules(const RulesFiles& read, RuleObjects objects = RuleObjects::refuse,
                             std::vector<std::string>* grants = nullptr);
/// What diff, sync and watch run: the rules of -f, or one unnamed rule from the positional form
/// (how they run is run_options()). -f together
/// with positionals or selection flags is a UsageError, found before any file is read (stdin
/// included). `read`: the -f files as already read, or empty to be filled with what is read now
/// (so that `watch -f` compares later reads with the text its rules came from).
std::vector<Rule> rules_from_options(const CLI::App& app, const TargetOptions& options,
                                     const GlobalOptions& global, RulesFiles* read = nullptr);

}  // namespace cmsync::cli
