#include "report/diff_report.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <optional>
#include <utility>

#include "kube/json.hpp"
#include "report/report_json.hpp"
#include "report/target_line.hpp"
#include "report/unified_diff.hpp"
#include "util/sha256.hpp"
#include "util/text_escape.hpp"

namespace cmsync {

namespace {

constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kCyan = "\x1b[36m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kReset = "\x1b[0m";

std::string describe_value(const std::optional<kube::Value>& value) {
    if (!value) {
        return {};
    }
    if (!value->binary) {
        return value->bytes;
    }
    return fmt::format("(binary, {} bytes, sha256 {})\n", value->bytes.size(),
                       sha256_hex(value->bytes).substr(0, 16));
}

// A sensitive kind's values as `kubectl diff` masks Secret data (its Masker): a key on both
// sides whose values differ reads "*** (before)" / "*** (after)", equal values read "***" on
// both sides (no diff line), a key on one side only "***". The sizes `kubectl describe` shows
// are added; nothing else of a value (no hash: a hash of a short password can be guessed
// offline).
std::pair<std::string, std::string> masked_values(const std::optional<kube::Value>& before,
                                                  const std::optional<kube::Value>& after) {
    const auto bytes = [](const kube::Value& v) { return fmt::format("{} bytes", v.bytes.size()); };
    if (before && after && before->bytes != after->bytes) {
        return {fmt::format("*** (before, {})\n", bytes(*before)),
                fmt::format("*** (after, {})\n", bytes(*after))};
    }
    return {before ? fmt::format("*** ({})\n", bytes(*before)) : std::string(),
            after ? fmt::format("*** ({})\n", bytes(*after)) : std::string()};
}

bool shows_diff(KeyAction action) {
    return action == KeyAction::add || action == KeyAction::modify || action == KeyAction::remove ||
           action == KeyAction::conflict;
}

std::string colorize(const std::string& diff) {
    std::string out;
    std::size_t start = 0;
    while (start < diff.size()) {
        auto end = diff.find('\n', start);
        end = end == std::string::npos ? diff.size() : end;
        const auto line = diff.substr(start, end - start);
        const char* color = nullptr;
        if (line.rfind("---", 0) == 0 || line.rfind("+++", 0) == 0) {
            color = kBold;
        } else if (line.rfind("@@", 0) == 0) {
            color = kCyan;
        } else if (!line.empty() && line[0] == '-') {
            color = kRed;
        } else if (!line.empty() && line[0] == '+') {
            color = kGreen;
        }
        out += color != nullptr ? fmt::format("{}{}{}\n", color, line, kReset) : line + "\n";
        start = end + 1;
    }
    return out;
}

}  // namespace

std::string key_diff(const TargetOutcome& outcome, const KeyPlan& key) {
    const auto cluster = outcome.cluster.empty() ? std::string() : outcome.cluster + "/";
    const auto target_label = fmt::format("{}{}:{}", cluster, outcome.target.str(), key.key);
    const auto source_label = fmt::format("{}:{}", outcome.source_text(), key.key);
    const bool to_source = key.action != KeyAction::remove;
    const std::optional<kube::Value> none;
    const auto& after = to_source ? key.source : none;
    const auto [old_text, new_text] =
        outcome.kind.sensitive ? masked_values(key.target, after)
                               : std::pair{describe_value(key.target), describe_value(after)};
    return unified_diff(old_text, new_text, target_label + (key.target ? "" : " (absent)"),
                        to_source ? source_label : target_label + " (removed)");
}

std::string render_diff_text(const std::vector<TargetOutcome>& outcomes, bool color) {
    std::string out;
    for (const auto& o : outcomes) {
        const auto action = o.action();
        const auto line = target_line(o, to_string(action), shows_diff, o.error.empty());
        const char* head_color = action == TargetAction::unchanged ? nullptr
                                 : action == TargetAction::error || action == TargetAction::conflict
                                     ? kYellow
                                     : kBold;
        out += color && head_color != nullptr ? fmt::format("{}{}{}\n", head_color, line, kReset)
                                              : line + "\n";
        for (const auto& w : o.plan.warnings) {
            out += fmt::format("  warning: {}\n", escape_control(w));
        }
        for (const auto& k : o.plan.keys) {
            if (!shows_diff(k.action)) {
                continue;
            }
            if (k.action == KeyAction::conflict) {
                out +=
                    escape_control(fmt::format("  conflict on \"{}\": {}", k.key, k.reason)) + "\n";
            }
            const auto diff = escape_control_lines(key_diff(o, k));
            out += color ? colorize(diff) : diff;
        }
    }
    return out;
}

std::string render_diff_json(const std::string& source_namespace,
                             const std::vector<TargetOutcome>& outcomes) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    const auto str = [&](const std::string& s) { return rapidjson::Value(s, a); };
    doc.AddMember("source", str(source_namespace), a);
    rapidjson::Value targets(rapidjson::kArrayType);
    for (const auto& o : outcomes) {
        auto t = target_json(o, a);
        t.AddMember("action", rapidjson::StringRef(to_string(o.action())), a);
        if (!o.plan.message.empty()) {
            t.AddMember("message", str(o.plan.message), a);
        }
        rapidjson::Value keys(rapidjson::kArrayType);
        for (const auto& k : o.plan.keys) {
            auto key = key_plan_json(k, a);
            if (shows_diff(k.action)) {
                key.AddMember("diff", str(key_diff(o, k)), a);
            }
            keys.PushBack(key, a);
        }
        t.AddMember("keys", keys, a);
        add_warnings_json(t, o.plan.warnings, a);
        t.AddMember("error", o.error.empty() ? rapidjson::Value() : str(o.error), a);
        targets.PushBack(t, a);
    }
    doc.AddMember("targets", targets, a);
    return kube::to_json(doc) + "\n";
}

int diff_exit_code(const std::vector<TargetOutcome>& outcomes) {
    int code = 0;
    for (const auto& o : outcomes) {
        const auto action = o.action();
        if (action == TargetAction::error) {
            return 2;
        }
        if (action != TargetAction::unchanged) {
            code = 1;
        }
    }
    return code;
}

}  // namespace cmsync
