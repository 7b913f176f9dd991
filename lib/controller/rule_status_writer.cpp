#include "controller/rule_status_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include "util/parallel.hpp"

namespace cmsync::controller {

namespace {

// A rule's status is written at most this often.
constexpr std::chrono::seconds kRound{1};
// While rules are in their first pass, rounds come this often, so that a rule's status follows
// the end of its pass closely (each rule still at most once per kRound).
constexpr std::chrono::milliseconds kFirstPassRound{200};
// A rule whose watcher has not ended its first pass yet, and that has no status of its
// generation, says nothing for this long (then Pending, once): a status written now would be
// written again in a moment. As other controllers, a rule says how it stands once it has been
// worked on; a thousand rules starting together patched every status two or three times while
// their copies were being made, and those writes slowed the copies'.
constexpr std::chrono::seconds kSettle{30};
// Status patches of one round sent at once.
constexpr int kConcurrentPatches = 16;

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

RuleStatusWriter::RuleStatusWriter(kube::ApiClient& api, const ClusterRules& rules,
                                   const RuleWatchers& watchers, WriteGate write_gate,
                                   std::function<void(const std::string&)> log)
    : api_(api),
      rules_(rules),
      watchers_(watchers),
      write_gate_(std::move(write_gate)),
      log_(std::move(log)) {}

RuleStatusWriter::~RuleStatusWriter() {
    stop();
}

void RuleStatusWriter::start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        auto wait = std::chrono::steady_clock::duration(kRound);
        while (!woken_.wait_for(lock, wait, [this] { return stop_.load(); })) {
            lock.unlock();
            wait = write_changed() ? kFirstPassRound : kRound;
            lock.lock();
        }
    });
}

void RuleStatusWriter::stop() {
    stop_ = true;
    woken_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

bool RuleStatusWriter::write_changed() {
    const auto until = write_gate_ ? write_gate_() : std::optional(kube::Until{});
    if (!until) {
        written_.clear();  // a standby: a new term compares afresh
        patched_at_.clear();
        return false;
    }
    const auto view = rules_.view();
    if (!view) {
        return false;  // the rule objects are not listed yet
    }
    const auto& objects = view->objects;
    const auto& refused = view->selection.refused;
    const auto& selected = view->selection.rules;  // by name
    std::map<std::string, RuleState> states;
    std::set<std::string> settling, first_pass;
    const auto round_start = std::chrono::steady_clock::now();
    const auto started_by = round_start - kSettle;
    watchers_.each_rule([&](const RuleWatchers::RuleRun& run) {
        // In its first pass: starting, or its first lists' pass not over yet (whether every
        // copy was written or some failed: a rule whose copies keep failing says Errors).
        if (run.watcher == nullptr ? run.failure.empty() : !run.watcher->ready()) {
            first_pass.insert(run.name);
            if (run.since > started_by) {
                settling.insert(run.name);
            }
        }
        auto& s = states[run.name];
        s.running = run.watcher != nullptr;
        s.failure = run.failure;
        s.failure_code = run.failure_code;
        if (run.watcher != nullptr) {
            s.counts = run.watcher->copy_counts();
        }
    });
    const auto now = metav1_time(unix_ms_now());
    struct Patch {
        std::string name;  ///< as objects and written_ key it
        const RuleObject* object;
        Written written;
        std::string error;
    };
    std::vector<Patch> patches;
    for (const auto& [name, object] : objects) {
        if (settling.count(name) != 0) {
            continue;
        }
        if (const auto it = patched_at_.find(name);
            it != patched_at_.end() && round_start - it->second < kRound) {
            continue;  // written less than a round ago
        }
        auto state = states[name];
        state.generation = object.generation;
        state.invalid = object.errors;
        if (const auto it = refused.find(name); it != refused.end()) {
            state.refused = it->second;
        }
        if (const auto it = view->selection.not_granted.find(name);
            it != view->selection.not_granted.end()) {
            state.not_granted = it->second;
        }
        if (const auto rule =
                std::lower_bound(selected.begin(), selected.end(), name,
                                 [](const Rule& r, const std::string& n) { return r.name < n; });
            rule != selected.end() && rule->name == name && rule->spec.granted_namespaces) {
            state.no_grant = rule->spec.granted_namespaces->empty();
        }
        const auto ready = ready_condition(state);
        const auto observed = observed_status(object.json);
        const auto written = written_.find(name);
        if (written != written_.end() && written->second.patch == observed.patch) {
            written_.erase(written);  // the object says what was written
        }
        // metav1.Condition: the transition is when the status (True/False) last changed.
        auto transition = now;
        if (!observed.transition_time.empty() && observed.ready.ready == ready.ready) {
            transition = observed.transition_time;
        } else if (const auto it = written_.find(name);
                   it != written_.end() && it->second.ready == ready.ready) {
            transition = it->second.transition_time;
        }
        const auto patch = status_patch(state, ready, transition);
        if (patch == observed.patch) {
            continue;  // already says so
        }
        const auto sent = written_.find(name);
        if (sent != written_.end() && sent->second.patch == patch) {
            continue;  // written; the watch has not brought it back yet
        }
        if (first_pass.count(name) != 0 &&
            (keeps_status(state.generation, observed) ||
             (sent != written_.end() &&
              keeps_status(state.generation, observed_status(sent->second.patch))))) {
            continue;  // says what it said until its first pass ends
        }
        patches.push_back({name, &object, {patch, ready.ready, transition}, ""});
    }
    parallel_for(patches.size(), kConcurrentPatches, [&](std::size_t i) {
        auto& p = patches[i];
        const auto& object = *p.object;
        try {
            api_.merge_patch_json(
                object.status_path(),
                object.namespaced ? kSyncRulesResource : kClusterSyncRulesResource, p.name,
                p.written.patch, *until);
        } catch (const std::exception& e) {
            p.error = e.what();
            if (p.error.empty()) {
                p.error = "unknown error";
            }
        }
    });
    for (auto& p : patches) {
        const auto& name = p.name;
        patched_at_[name] = round_start;
        if (p.error.empty()) {
            written_[name] = std::move(p.written);
            failed_.erase(name);
            continue;
        }
        if (failed_[name] != p.error) {
            log_(fmt::format("cannot write the status of {}: {}", p.object->label(), p.error));
        }
        failed_[name] = p.error;
    }
    std::erase_if(written_, [&](const auto& e) { return objects.count(e.first) == 0; });
    std::erase_if(patched_at_, [&](const auto& e) { return objects.count(e.first) == 0; });
    return !first_pass.empty();
}

}  // namespace cmsync::controller
