#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cmsync::controller {

/// Prometheus' and client-go's default latency buckets, in seconds.
inline const std::vector<double> kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                 0.5,   1,    2.5,   5,    10};

/// A value that only goes up. Thread-safe, lock-free.
class Counter {
  public:
    /// Adds `by` (negative amounts are ignored: a counter never goes down).
    void inc(double by = 1.0);
    /// The current value.
    double value() const { return value_.load(); }

  private:
    std::atomic<double> value_{0.0};
};

/// A value that goes up and down. Thread-safe, lock-free.
class Gauge {
  public:
    void set(double value) { value_.store(value); }
    void add(double by) { value_.fetch_add(by); }
    /// The current value.
    double value() const { return value_.load(); }

  private:
    std::atomic<double> value_{0.0};
};

/// Observations counted into fixed buckets (upper bounds, +Inf implied). Thread-safe.
class Histogram {
  public:
    /// `bounds`: finite, strictly increasing (checked by Registry::histogram).
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);

    struct Snapshot {
        std::vector<std::uint64_t> cumulative;  ///< per bound, then the +Inf bucket
        double sum = 0;
        std::uint64_t count = 0;
    };
    /// A consistent copy of the buckets, cumulative as exposed.
    Snapshot snapshot() const;
    /// The upper bounds, without +Inf.
    const std::vector<double>& bounds() const { return bounds_; }

  private:
    const std::vector<double> bounds_;
    mutable std::mutex mutex_;
    std::vector<std::uint64_t> counts_;  ///< per bucket, not cumulative; last: above all
    double sum_ = 0;
};

/// A metric name with its HELP, TYPE and label names; its series are created on first use.
class FamilyBase {
  public:
    FamilyBase(std::string name, std::string help, std::string type,
               std::vector<std::string> label_names);
    virtual ~FamilyBase() = default;
    FamilyBase(const FamilyBase&) = delete;
    FamilyBase& operator=(const FamilyBase&) = delete;
    /// Appends HELP, TYPE and every series (ordered by label values); nothing without series.
    void render(std::string& out) const;

  protected:
    /// Appends the sample lines of the series with `label_values`.
    virtual void render_series(std::string& out,
                               const std::vector<std::string>& label_values) const = 0;
    /// Throws Error unless there is one value per label name.
    void check_arity(const std::vector<std::string>& label_values) const;
    /// Every series' label values, in order.
    virtual std::vector<std::vector<std::string>> series_keys() const = 0;

    const std::string name_;
    const std::string help_;
    const std::string type_;
    const std::vector<std::string> label_names_;
};

/// The series of one metric name, one per combination of label values.
template <class Metric>
class Family : public FamilyBase {
  public:
    Family(std::string name, std::string help, std::string type,
           std::vector<std::string> label_names, std::function<std::unique_ptr<Metric>()> make);
    /// The series with these label values (one per label name, in order), created at 0 on
    /// first use; the reference stays valid as long as the registry. Throws Error on a wrong
    /// number of values.
    Metric& with(const std::vector<std::string>& label_values);

  private:
    void render_series(std::string& out,
                       const std::vector<std::string>& label_values) const override;
    std::vector<std::vector<std::string>> series_keys() const override;

    std::function<std::unique_ptr<Metric>()> make_;
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

/// Metric families by name, rendered in the Prometheus text exposition format 0.0.4.
class Registry {
  public:
    /// Each registers a new family; throws Error for a bad or taken name or label name.
    Family<Counter>& counter(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names = {});
    Family<Gauge>& gauge(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
    Family<Histogram>& histogram(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names,
                                 std::vector<double> bounds = kLatencyBuckets);
    /// Every family ordered by name; a family without labels shows its 0 from the start.
    std::string render() const;

  private:
    void check_new(const std::string& name, const std::vector<std::string>& label_names) const;

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<FamilyBase>> families_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace cmsync::controller
