#include "controller/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "controller/metrics_text.hpp"
#include "error.hpp"

namespace cmsync::controller {

namespace {

LabelPairs pairs(const std::vector<std::string>& names, const std::vector<std::string>& values) {
    LabelPairs out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        out.emplace_back(names[i], values[i]);
    }
    return out;
}

void sample(std::string& out, const std::string& name, const LabelPairs& labels, double value) {
    out += fmt::format("{}{} {}\n", name, format_labels(labels), format_sample_value(value));
}

}  // namespace

void Counter::inc(double by) {
    if (by > 0) {
        value_.fetch_add(by);
    }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    // A bucket counts what is less than or equal to its bound.
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    std::lock_guard lock(mutex_);
    ++counts_[bucket];
    sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    std::lock_guard lock(mutex_);
    s.cumulative.reserve(counts_.size());
    for (const auto n : counts_) {
        s.count += n;
        s.cumulative.push_back(s.count);
    }
    s.sum = sum_;
    return s;
}

FamilyBase::FamilyBase(std::string name, std::string help, std::string type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(std::move(type)),
      label_names_(std::move(label_names)) {}

void FamilyBase::render(std::string& out) const {
    const auto keys = series_keys();
    if (keys.empty()) {
        return;  // as client_golang: a family shows once it has a series
    }
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape_help(help_), name_, type_);
    for (const auto& key : keys) {
        render_series(out, key);
    }
}

void FamilyBase::check_arity(const std::vector<std::string>& label_values) const {
    if (label_values.size() != label_names_.size()) {
        throw Error(fmt::format("metric {}: {} label values for {} label names", name_,
                                label_values.size(), label_names_.size()));
    }
}

template <class Metric>
Family<Metric>::Family(std::string name, std::string help, std::string type,
                       std::vector<std::string> label_names,
                       std::function<std::unique_ptr<Metric>()> make)
    : FamilyBase(std::move(name), std::move(help), std::move(type), std::move(label_names)),
      make_(std::move(make)) {
    if (label_names_.empty()) {
        with({});
    }
}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& label_values) {
    check_arity(label_values);
    std::lock_guard lock(mutex_);
    auto& slot = series_[label_values];
    if (!slot) {
        slot = make_();
    }
    return *slot;
}

template <class Metric>
std::vector<std::vector<std::string>> Family<Metric>::series_keys() const {
    std::lock_guard lock(mutex_);
    std::vector<std::vector<std::string>> keys;
    keys.reserve(series_.size());
    for (const auto& entry : series_) {
        keys.push_back(entry.first);
    }
    return keys;
}

template <class Metric>
void Family<Metric>::render_series(std::string& out,
                                   const std::vector<std::string>& label_values) const {
    const Metric* metric = nullptr;
    {
        std::lock_guard lock(mutex_);
        metric = series_.at(label_values).get();
    }
    auto labels = pairs(label_names_, label_values);
    if constexpr (std::is_same_v<Metric, Histogram>) {
        const auto snap = metric->snapshot();
        const auto& bounds = metric->bounds();
        labels.emplace_back("le", "");
        for (std::size_t i = 0; i < snap.cumulative.size(); ++i) {
            labels.back().second = format_sample_value(i < bounds.size() ? bounds[i] : INFINITY);
            sample(out, name_ + "_bucket", labels, static_cast<double>(snap.cumulative[i]));
        }
        labels.pop_back();
        sample(out, name_ + "_sum", labels, snap.sum);
        sample(out, name_ + "_count", labels, static_cast<double>(snap.count));
    } else {
        sample(out, name_, labels, metric->value());
    }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Registry::check_new(const std::string& name,
                         const std::vector<std::string>& label_names) const {
    if (!valid_metric_name(name)) {
        throw Error(fmt::format("invalid metric name \"{}\"", name));
    }
    for (const auto& label : label_names) {
        if (!valid_label_name(label)) {
            throw Error(fmt::format("metric {}: invalid label name \"{}\"", name, label));
        }
    }
    if (families_.count(name) != 0) {
        throw Error(fmt::format("metric {} is registered twice", name));
    }
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    check_new(name, label_names);
    auto family = std::make_unique<Family<Counter>>(name, help, "counter", std::move(label_names),
                                                    [] { return std::make_unique<Counter>(); });
    auto& ref = *family;
    families_.emplace(name, std::move(family));
    return ref;
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    check_new(name, label_names);
    auto family = std::make_unique<Family<Gauge>>(name, help, "gauge", std::move(label_names),
                                                  [] { return std::make_unique<Gauge>(); });
    auto& ref = *family;
    families_.emplace(name, std::move(family));
    return ref;
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names,
                                       std::vector<double> bounds) {
    std::lock_guard lock(mutex_);
    check_new(name, label_names);
    if (std::find(label_names.begin(), label_names.end(), "le") != label_names.end()) {
        throw Error(fmt::format("metric {}: \"le\" is the histogram's own label", name));
    }
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
            throw Error(
                fmt::format("metric {}: bucket bounds must be finite and increasing", name));
        }
    }
    auto family = std::make_unique<Family<Histogram>>(
        name, help, "histogram", std::move(label_names),
        [bounds] { return std::make_unique<Histogram>(bounds); });
    auto& ref = *family;
    families_.emplace(name, std::move(family));
    return ref;
}

std::string Registry::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& entry : families_) {
        entry.second->render(out);
    }
    return out;
}

}  // namespace cmsync::controller
