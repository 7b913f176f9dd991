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

/// The rules of every -f argument, as kubectl reads -f: a file, a folder (its *.yaml, *.yml
/// and *.json files, sorted), or "-" for stdin. Checked in full; throws RulesError.
std::vector<Rule> load_rules(const std::vector<std::string>& paths);

/// What the -f arguments hold now (names and contents; stdin is read once and not again),
/// for `watch -f` to notice an edit however it was made.
std::string rules_files_content(const std::vector<std::string>& paths);

/// What diff, sync and watch run: the rules of -f (with --force, --concurrency and
/// --chunk-size applied to each), or one unnamed rule from the positional form. -f together
/// with positionals or selection flags is a UsageError.
std::vector<Rule> rules_from_options(const CLI::App& app, const TargetOptions& options,
                                     const GlobalOptions& global);

}  // namespace cmsync::cli
