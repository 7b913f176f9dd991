#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cmsync::controller {

/// Label names and values of one series, in the family's order.
using LabelPairs = std::vector<std::pair<std::string, std::string>>;

/// A sample value as the text exposition format 0.0.4 writes it: shortest round-trip decimal,
/// "+Inf", "-Inf", "NaN".
std::string format_sample_value(double value);
/// A label value with backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view value);
/// A HELP text with backslash and newline escaped (quotes stay as they are).
std::string escape_help(std::string_view help);
/// `{a="x",b="y"}`, or an empty string for no labels; a label with an empty value is left out
/// (in Prometheus it is the same series as without it).
std::string format_labels(const LabelPairs& labels);
/// Whether `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
bool valid_metric_name(std::string_view name);
/// Whether `name` matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with "__" (reserved).
bool valid_label_name(std::string_view name);

}  // namespace cmsync::controller
