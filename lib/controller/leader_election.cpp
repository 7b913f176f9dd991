#include "controller/leader_election.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include "kube/api_error.hpp"

namespace cmsync::controller {

namespace {

long long unix_micros_now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

LeaseStore api_store(kube::ApiClient& api, const LeaderElectionConfig& config) {
    const auto ns = config.namespace_name;
    const auto name = config.name;
    return {[&api, ns, name] { return api.get_lease(ns, name); },
            [&api](const kube::Lease& l) { return api.create_lease(l); },
            [&api](const kube::Lease& l) { return api.update_lease(l); }};
}

}  // namespace

LeaderElection::LeaderElection(kube::ApiClient& api, LeaderElectionConfig config, LogSink log,
                               std::function<void(bool)> on_change)
    : elector_(config, api_store(api, config), unix_micros_now),
      log_(std::move(log)),
      on_change_(std::move(on_change)),
      term_(config.renew_deadline) {}

LeaderElection::~LeaderElection() {
    {
        std::lock_guard guard(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void LeaderElection::start() {
    const auto& c = elector_.config();
    log_(fmt::format("leader election: Lease {}/{} as {}", c.namespace_name, c.name, c.identity));
    thread_ = std::thread([this] { run(); });
}

bool LeaderElection::may_write() const {
    std::lock_guard guard(mutex_);
    return term_.may_write(LeaderElector::Clock::now());
}

std::optional<std::chrono::steady_clock::time_point> LeaderElection::write_until() const {
    std::lock_guard guard(mutex_);
    return term_.write_until(LeaderElector::Clock::now());
}

bool LeaderElection::lost() const {
    std::lock_guard guard(mutex_);
    return term_.lost(LeaderElector::Clock::now());
}

void LeaderElection::run() {
    const auto& c = elector_.config();
    std::mt19937 rng{std::random_device{}()};
    std::string last_error;
    std::string last_holder;
    bool leading = false;
    for (;;) {
        const auto started = LeaderElector::Clock::now();
        bool held = false;
        try {
            held = elector_.try_acquire_or_renew(started);
            last_error.clear();
        } catch (const std::exception& e) {
            if (e.what() != last_error) {  // said once until it changes
                last_error = e.what();
                log_(fmt::format("leader election: {}", last_error));
            }
        }
        bool lost = false;
        {
            std::lock_guard guard(mutex_);
            if (held) {
                term_.renewed(started);
            }
            lost = term_.lost(LeaderElector::Clock::now());
        }
        if (held != leading && (held || lost)) {
            leading = held;
            log_(held ? fmt::format("leader election: became the leader ({})", c.identity)
                      : "leader election: lost the Lease (not renewed within the renew "
                        "deadline): stopping");
            if (on_change_) {
                on_change_(held);
            }
        }
        if (lost) {
            return;  // the process ends; a new one starts as a candidate
        }
        if (!held && elector_.holder() != last_holder) {
            last_holder = elector_.holder();
            log_(last_holder.empty() ? "leader election: the Lease is free"
                                     : fmt::format("leader election: {} leads", last_holder));
        }
        auto wait = c.retry_period;
        if (!leading) {
            const double jitter = std::uniform_real_distribution<double>(0.0, 0.1)(rng);
            wait += std::chrono::milliseconds(static_cast<long>(c.retry_period.count() * jitter));
        }
        std::unique_lock lock(mutex_);
        if (wake_.wait_until(lock, started + wait, [&] { return stop_; })) {
            return;
        }
    }
}

void LeaderElection::stop_and_release() {
    {
        std::lock_guard guard(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    bool leading = false;
    {
        std::lock_guard guard(mutex_);
        leading = term_.may_write(LeaderElector::Clock::now());
        term_.ended();
    }
    if (!leading) {
        return;
    }
    try {
        elector_.release();
        log_("leader election: released the Lease");
    } catch (const std::exception& e) {
        log_(fmt::format("leader election: could not release the Lease: {}", e.what()));
    }
}

std::string leader_identity() {
    std::string name;
    if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') {
        name = pod;
    } else {
        char host[256] = {};
        if (gethostname(host, sizeof host - 1) == 0) {
            name = host;
        }
    }
    std::random_device random;
    return fmt::format("{}_{:05x}{:05x}", name.empty() ? "kubectl-cmsync" : name,
                       random() & 0xfffff, random() & 0xfffff);
}

}  // namespace cmsync::controller
