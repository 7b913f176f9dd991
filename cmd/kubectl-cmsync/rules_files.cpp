#include "rules_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace cmsync::cli {

namespace {

std::string read_all(std::istream& in) {
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The files a -f argument names, in order.
std::vector<std::string> expand(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path == "-" || !fs::is_directory(path, ec)) {
        return {path};
    }
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
        const auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        throw RulesError({fmt::format("{}: no *.yaml, *.yml or *.json file in this folder", path)});
    }
    return files;
}

}  // namespace

RulesFiles read_rules_files(const std::vector<std::string>& paths) {
    RulesFiles out;
    bool stdin_read = false;
    for (const auto& path : paths) {
        std::vector<std::string> files;
        try {
            files = expand(path);
        } catch (const RulesError& e) {
            out.files.push_back({path, "", e.lines().front()});
            continue;
        }
        for (const auto& file : files) {
            if (file == "-") {
                out.files.push_back(
                    stdin_read ? RulesFiles::File{"-", "", "-: stdin can be read only once"}
                               : RulesFiles::File{"-", read_all(std::cin), ""});
                stdin_read = true;
                continue;
            }
            std::ifstream in(file, std::ios::binary);
            out.files.push_back(
                in ? RulesFiles::File{file, read_all(in), ""}
                   : RulesFiles::File{file, "", fmt::format("{}: cannot read this file", file)});
        }
    }
    return out;
}

std::vector<Rule> load_rules(const RulesFiles& read, RuleObjects objects,
                             std::vector<std::string>* grants) {
    std::vector<Rule> rules;
    std::vector<std::string> errors;
    for (const auto& file : read.files) {
        if (!file.error.empty()) {
            errors.push_back(file.error);
            continue;
        }
        auto parsed =
            parse_sync_config(file.text, file.name == "-" ? "<stdin>" : file.name, objects);
        std::move(parsed.rules.begin(), parsed.rules.end(), std::back_inserter(rules));
        std::move(parsed.errors.begin(), parsed.errors.end(), std::back_inserter(errors));
        if (grants != nullptr) {
            std::move(parsed.grants.begin(), parsed.grants.end(), std::back_inserter(*grants));
        }
    }
    if (errors.empty()) {
        errors = check_rules(rules);
    }
    if (!errors.empty()) {
        throw RulesError(std::move(errors));
    }
    return rules;
}

std::vector<Rule> rules_from_options(const CLI::App& app, const TargetOptions& o,
                                     const GlobalOptions& global, RulesFiles* read) {
    if (o.files.empty()) {
        return {Rule{"", make_sync_spec(app, o, global), ""}};
    }
    for (const char* flag : {"namespaces", "--name", "--selector", "--all", "--keys",
                             "--target-selector", "--source-context", "--target-context"}) {
        if (app.count(flag) > 0) {
            throw UsageError(fmt::format(
                "-f cannot be combined with {}: the rules file says what to sync",
                std::string(flag) == "namespaces" ? "namespaces on the command line" : flag));
        }
    }
    if (!global.connection.namespace_name.empty()) {
        throw UsageError("-f cannot be combined with -n: each rule names its source namespace");
    }
    RulesFiles here;
    auto& files = read != nullptr ? *read : here;
    if (files.files.empty()) {
        files = read_rules_files(o.files);  // one entry per -f: empty means not read yet
    }
    return load_rules(files);
}

}  // namespace cmsync::cli
