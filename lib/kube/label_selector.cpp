#include "kube/label_selector.hpp"

#include <algorithm>
#include <cctype>

namespace cmsync {

namespace {

std::string trim(const std::string& s) {
    const auto begin = s.find_first_not_of(" \t");
    if (begin == std::string::npos) {
        return {};
    }
    return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

bool valid_token(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
               c == '/';
    });
}

// Splits on commas outside parentheses.
std::vector<std::string> terms(const std::string& text) {
    std::vector<std::string> out;
    std::string current;
    int depth = 0;
    for (const char c : text) {
        if (c == '(') {
            ++depth;
        } else if (c == ')') {
            --depth;
        }
        if (c == ',' && depth == 0) {
            out.push_back(trim(current));
            current.clear();
        } else {
            current += c;
        }
    }
    out.push_back(trim(current));
    return out;
}

}  // namespace

std::optional<LabelSelector> LabelSelector::parse(const std::string& text) {
    LabelSelector selector;
    if (trim(text).empty()) {
        return selector;
    }
    for (const auto& term : terms(text)) {
        Requirement r;
        if (const auto paren = term.find('('); paren != std::string::npos) {
            if (term.back() != ')') {
                return std::nullopt;
            }
            const auto head = trim(term.substr(0, paren));
            const auto space = head.find_last_of(" \t");
            if (space == std::string::npos) {
                return std::nullopt;
            }
            r.key = trim(head.substr(0, space));
            const auto op = head.substr(space + 1);
            if (op == "in") {
                r.op = Op::in;
            } else if (op == "notin") {
                r.op = Op::not_in;
            } else {
                return std::nullopt;
            }
            for (auto& v : terms(term.substr(paren + 1, term.size() - paren - 2))) {
                if (!v.empty()) {
                    r.values.push_back(v);
                }
            }
        } else if (const auto ne = term.find("!="); ne != std::string::npos) {
            r = {trim(term.substr(0, ne)), Op::not_equals, {trim(term.substr(ne + 2))}};
        } else if (const auto eq = term.find('='); eq != std::string::npos) {
            const auto skip = term.compare(eq, 2, "==") == 0 ? 2 : 1;
            r = {trim(term.substr(0, eq)), Op::equals, {trim(term.substr(eq + skip))}};
        } else if (!term.empty() && term.front() == '!') {
            r = {trim(term.substr(1)), Op::not_exists, {}};
        } else {
            r = {term, Op::exists, {}};
        }
        if (!valid_token(r.key)) {
            return std::nullopt;
        }
        selector.requirements_.push_back(std::move(r));
    }
    return selector;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
    for (const auto& r : requirements_) {
        const auto it = labels.find(r.key);
        const bool has = it != labels.end();
        const auto in_values = [&] {
            return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
        };
        bool ok = false;
        switch (r.op) {
            case Op::equals:
                ok = has && it->second == r.values.front();
                break;
            case Op::not_equals:
                ok = !has || it->second != r.values.front();
                break;
            case Op::exists:
                ok = has;
                break;
            case Op::not_exists:
                ok = !has;
                break;
            case Op::in:
                ok = in_values();
                break;
            case Op::not_in:
                ok = !in_values();
                break;
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace cmsync
