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

std::vector<Rule> load_rules(const std::vector<std::string>& paths) {
    std::vector<Rule> rules;
    std::vector<std::string> errors;
    bool stdin_read = false;
    for (const auto& path : paths) {
        for (const auto& file : expand(path)) {
            std::string text;
            if (file == "-") {
                if (stdin_read) {
                    errors.push_back("-: stdin can be read only once");
                    continue;
                }
                stdin_read = true;
                text = read_all(std::cin);
            } else {
                std::ifstream in(file, std::ios::binary);
                if (!in) {
                    errors.push_back(fmt::format("{}: cannot read this file", file));
                    continue;
                }
                text = read_all(in);
            }
            auto parsed = parse_sync_config(text, file == "-" ? "<stdin>" : file);
            std::move(parsed.rules.begin(), parsed.rules.end(), std::back_inserter(rules));
            std::move(parsed.errors.begin(), parsed.errors.end(), std::back_inserter(errors));
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

std::string rules_files_content(const std::vector<std::string>& paths) {
    std::string all;
    for (const auto& path : paths) {
        if (path == "-") {
            continue;
        }
        std::vector<std::string> files;
        try {
            files = expand(path);
        } catch (const RulesError&) {
            files = {path};  // an emptied folder: load_rules will say so
        }
        for (const auto& file : files) {
            std::ifstream in(file, std::ios::binary);
            all += file + '\0' + (in ? read_all(in) : std::string("<unreadable>")) + '\0';
        }
    }
    return all;
}

std::vector<Rule> rules_from_options(const CLI::App& app, const TargetOptions& o,
                                     const GlobalOptions& global) {
    if (o.files.empty()) {
        return {Rule{"", make_sync_request(app, o, global), false, ""}};
    }
    for (const char* flag :
         {"namespaces", "--name", "--selector", "--all", "--keys", "--target-selector"}) {
        if (app.count(flag) > 0) {
            throw UsageError(fmt::format(
                "-f cannot be combined with {}: the rules file says what to sync",
                std::string(flag) == "namespaces" ? "namespaces on the command line" : flag));
        }
    }
    if (!global.connection.namespace_name.empty()) {
        throw UsageError("-f cannot be combined with -n: each rule names its source namespace");
    }
    auto rules = load_rules(o.files);
    for (auto& rule : rules) {
        rule.request.force = o.force;
        rule.request.concurrency = o.concurrency;
        rule.request.chunk_size = global.chunk_size;
    }
    return rules;
}

}  // namespace cmsync::cli
