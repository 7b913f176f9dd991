#include "controller/leader_elector.hpp"

namespace cmsync::controller {

LeaderElector::LeaderElector(LeaderElectionConfig config, LeaseStore store,
                             std::function<long long()> unix_micros)
    : config_(std::move(config)), store_(std::move(store)), unix_micros_(std::move(unix_micros)) {}

bool LeaderElector::is_leader() const {
    return observed_ && observed_->record.holder == config_.identity;
}

std::string LeaderElector::holder() const {
    return observed_ ? observed_->record.holder : std::string();
}

bool LeaderElector::lease_valid(Clock::time_point now) const {
    return observed_ &&
           observed_time_ + std::chrono::seconds(observed_->record.lease_duration_seconds) > now;
}

void LeaderElector::observe(const kube::Lease& lease, Clock::time_point now) {
    if (!observed_ || observed_->record != lease.record) {
        observed_time_ = now;  // the record changed: its holder is alive, by our clock
    }
    observed_ = lease;
}

kube::Lease LeaderElector::next_lease(const kube::LeaseRecord& old) const {
    const auto now = kube::micro_time(unix_micros_());
    kube::Lease lease;
    lease.namespace_name = config_.namespace_name;
    lease.name = config_.name;
    auto& r = lease.record;
    r.holder = config_.identity;
    r.lease_duration_seconds = static_cast<int>(
        std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count());
    r.renew_time = now;
    if (is_leader()) {
        r.acquire_time = old.acquire_time;
        r.lease_transitions = old.lease_transitions;
    } else {
        r.acquire_time = now;
        r.lease_transitions = old.lease_transitions + 1;
    }
    return lease;
}

bool LeaderElector::try_acquire_or_renew(Clock::time_point now) {
    // A leader whose lease is still valid renews from the record it wrote, without a read
    // first (client-go's fast path); a conflict sends it down the slow path below.
    if (is_leader() && lease_valid(now)) {
        auto lease = next_lease(observed_->record);
        lease.resource_version = observed_->resource_version;
        try {
            const auto stored = store_.update(lease);
            observed_ = stored;
            observed_time_ = now;
            return true;
        } catch (const std::exception&) {
        }
    }
    const auto current = store_.get();
    if (!current) {
        auto lease = next_lease({});
        lease.record.lease_transitions = 0;
        const auto stored = store_.create(lease);
        observed_ = stored;
        observed_time_ = now;
        return true;
    }
    observe(*current, now);
    if (!current->record.holder.empty() && lease_valid(now) && !is_leader()) {
        return false;  // held by someone alive
    }
    auto lease = next_lease(current->record);
    lease.resource_version = current->resource_version;
    const auto stored = store_.update(lease);
    observed_ = stored;
    observed_time_ = now;
    return true;
}

void LeaderElector::release() {
    if (!is_leader()) {
        return;
    }
    kube::Lease lease;
    lease.namespace_name = config_.namespace_name;
    lease.name = config_.name;
    lease.resource_version = observed_->resource_version;
    const auto now = kube::micro_time(unix_micros_());
    lease.record.lease_duration_seconds = 1;
    lease.record.acquire_time = now;
    lease.record.renew_time = now;
    lease.record.lease_transitions = observed_->record.lease_transitions;
    observed_ = store_.update(lease);
}

void LeadershipTerm::renewed(Clock::time_point started) {
    last_renewal_ = started;
}

void LeadershipTerm::ended() {
    last_renewal_.reset();
}

bool LeadershipTerm::may_write(Clock::time_point now) const {
    return write_until(now).has_value();
}

std::optional<LeadershipTerm::Clock::time_point> LeadershipTerm::write_until(
    Clock::time_point now) const {
    if (!last_renewal_ || now >= *last_renewal_ + renew_deadline_) {
        return std::nullopt;
    }
    return *last_renewal_ + renew_deadline_;
}

bool LeadershipTerm::lost(Clock::time_point now) const {
    return last_renewal_ && now >= *last_renewal_ + renew_deadline_;
}

}  // namespace cmsync::controller
