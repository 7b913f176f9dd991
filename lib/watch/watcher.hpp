#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kube/api_client.hpp"
#include "kube/label_selector.hpp"
#include "sync/planner.hpp"
#include "sync/writer.hpp"
#include "watch/copy_cache.hpp"
#include "watch/copy_retries.hpp"
#include "watch/pass_schedule.hpp"
#include "watch/shared_stream.hpp"
#include "watch/source_news.hpp"
#include "watch/takeover.hpp"
#include "watch/watch_action.hpp"
#include "watch/watch_state.hpp"
#include "watch/watch_streams.hpp"

namespace cmsync {

enum class WatchScope { automatic, namespaces, cluster };

struct WatchConfig {
    SyncSpec spec;  ///< what (spec.prune: copies of deleted sources lose their managed keys)
    RunOptions run;
    WriteOptions write;
    std::chrono::milliseconds resync_period{5 * 60 * 1000};  ///< zero: off
    std::string state_file;
    WatchScope scope = WatchScope::automatic;
    /// With scope automatic, more namespaces than this use one cluster-scope watch.
    std::size_t cluster_threshold = 20;
    /// A cluster-wide stream shared with other rules' watchers (RuleWatchers): used instead of
    /// streams of its own in scope automatic, for a kind that is not sensitive, without a state
    /// file, when the process may list and watch that kind cluster-wide.
    SharedStream* shared_stream = nullptr;
    /// Across clusters: the client of the source's cluster when the targets (the Watcher's
    /// `api`) are in another one; nothing: one cluster. The source's streams and reads then go
    /// there, the targets' stay on `api` (each cluster on its own connection, streams and
    /// backoff), and copies record the source's cluster (write.source_cluster).
    kube::ApiClient* source_api = nullptr;
    /// How actions and logs name the targets' cluster and the source's ("": not named).
    std::string cluster;
    std::string source_cluster;
    /// The targets are not in the process's own cluster (WatchAction::other_cluster).
    bool other_cluster = false;
};

/// The sources read during one pass, let go with it. Thread-safe.
class SourceReads {
  public:
    using Clock = std::chrono::steady_clock;
    using Read = std::shared_ptr<const std::optional<kube::Object>>;
    /// A sensitive kind's values (the watcher holds them sealed): the source as the server has
    /// it now (nothing: gone), read once however many copies need it.
    std::optional<kube::Object> get(kube::ApiClient& api, const kube::Kind& kind,
                                    const kube::ObjectRef& source);
    /// The source as the server has it now (nothing: gone), when the pass has reason to think
    /// it changed since the pass began (Watcher::latest_source). One read serves every copy
    /// that asks up to 250 ms after it began.
    Read again(kube::ApiClient& api, const kube::Kind& kind, const kube::ObjectRef& source);
    /// What again() read last, by source name.
    std::map<std::string, Read> read_again() const;

  private:
    std::mutex mutex_;
    std::map<std::string, std::optional<kube::Object>> read_;  ///< by name
    mutable std::mutex again_mutex_;
    std::map<std::string, std::pair<Clock::time_point, Read>> again_;  ///< name -> when, what
};

/// What a rule's copies are now, as the watcher last reported each: what a rule object's
/// status counts.
struct CopyCounts {
    std::size_t targets = 0;  ///< sources x target namespaces
    std::size_t in_step = 0;
    std::size_t conflicts = 0;
    std::size_t orphaned = 0;  ///< copies whose source is gone (not among the targets)
    std::size_t errors = 0;
    std::vector<std::string> missing_sources;  ///< named sources that do not exist
    /// Unix ms of the last write of a copy; 0: none yet.
    std::int64_t last_write_unix_ms = 0;
};

/// `watch`: lists, syncs once, then keeps targets in step from watch events until `stop`.
class Watcher {
  public:
    Watcher(kube::ApiClient& api, WatchConfig config,
            std::function<void(const WatchAction&)> on_action,
            std::function<void(const std::string&)> log);
    ~Watcher();
    /// Runs until `stop` is set; then finishes writes in flight and saves state. Throws Error
    /// for what makes watching impossible (the source namespace cannot be read).
    void run(const std::atomic<bool>& stop);
    /// run() in parts, for a driver running many watchers on a few threads (RuleWatchers):
    /// begin() reads and starts the streams (throws as run does); turn() is one round of the
    /// loop, waiting up to `wait` for events; end() stops the streams and saves state.
    void begin();
    void turn(std::chrono::milliseconds wait);
    void end();
    /// How long until a pass is due (at most 200 ms): how long a driver may wait.
    std::chrono::milliseconds until_due() const;
    /// `wake` is called (from stream threads) whenever an event is queued: a driver's cue.
    /// Set before begin().
    void on_event(std::function<void()> wake);
    /// Every stream has had its first list (a standby too): readiness.
    bool ready() const { return ready_; }
    /// When the loop last went round or finished a write: liveness.
    std::chrono::steady_clock::time_point last_beat() const;
    const WatchStats& stats() const { return stats_; }
    /// Copies of the sources known to exist in the target namespaces.
    std::size_t copies_managed() const { return copies_.copies(); }
    /// The copies as last reported (thread-safe).
    CopyCounts copy_counts() const;
    /// Clusters (named ones only) whose streams fail to reach them now, each as
    /// "cluster NAME: ERROR": readiness names them. Thread-safe.
    std::vector<std::string> unreachable() const;

  private:
    /// Stream keys beside namespace names ("NS", or "NS/NAME" for one object of a namespace):
    /// target namespaces by label, and cluster scope.
    static constexpr const char* kNamespacesStream = "#namespaces";
    static constexpr const char* kClusterStream = "*";
    /// Across clusters, the source's stream keys start with this (a target namespace may be
    /// named as the source's, in its own cluster).
    static constexpr const char* kSourceKey = "source:";

    /// Whether stream `key` brings sources only (across clusters: the source cluster's).
    bool source_stream(const std::string& key) const;
    /// Whether an event of namespace `ns` on stream `key` is of the source namespace.
    bool from_source(const std::string& key, const std::string& ns) const;
    /// Named clusters: throws ApiError 403 naming the cluster and the first target namespace
    /// whose copies this client may not list and watch, so that a forbidden cluster fails its
    /// own watcher at once (retried), instead of its streams retrying without end.
    void check_target_access(const std::vector<std::string>& targets);
    /// Starts the source namespace's streams on the source's cluster (across clusters).
    void start_source_streams(const std::function<std::string(const std::string&)>& rv_of);

    /// Whether this replica may write (WriteOptions::write_gate; always without it). A standby
    /// keeps its caches warm from the streams; what it skips, it repairs once it leads
    /// (Takeover).
    bool leading() const;
    /// leading(), and when not, what is skipped is owed to the takeover.
    bool leading_or_skip();
    /// Whether the copy cache holds this very state of a copy (an echo of an own write).
    bool held(const kube::Object& cm) const;
    void beat();
    /// Whether to watch with one cluster-wide stream: asked for (or automatic and many
    /// namespaces) and allowed. Throws Error when asked for explicitly and forbidden.
    bool use_cluster_scope(std::size_t target_count);
    /// The state file's state, when there is one for this scope (decided here: cluster_scope_).
    std::optional<WatchState> resumed_state(std::size_t target_count);
    /// The first read of the sources; what changed or went while nobody watched is scheduled
    /// or orphaned.
    void read_initial_sources(const std::vector<std::string>& targets,
                              const std::optional<WatchState>& resumed);
    /// Leaves the shared stream, if on it.
    void unsubscribe();
    /// Syncs the sources whose pass is due to every target namespace.
    void pass_due_sources();
    /// Tries again the copies whose backoff after a failure is over (reading them afresh).
    void retry_due_copies();
    void start_streams(const std::optional<WatchState>& resumed);
    /// A stream of the watched kind in `ns` ("": the cluster); `name` set: that object only
    /// (a field selector).
    StreamSpec object_stream(const std::string& key, const std::string& ns, const std::string& rv,
                             const std::string& name = "");
    /// The streams of namespace `ns`: one, or for a sensitive kind's named sources one per
    /// name, so that only those are ever listed or watched (Roles with resourceNames suffice).
    /// `rv_of` gives a stream key's position to resume from.
    std::vector<StreamSpec> namespace_streams(
        const std::string& ns, const std::function<std::string(const std::string&)>& rv_of);
    bool relevant(const std::string& ns, const std::string& name) const;
    bool selected(const kube::Object& cm) const;
    void handle(StreamEvent& event);
    /// The source `name` as the server has it now (nothing: gone). Throws Error, logged.
    std::optional<kube::Object> source_now(const std::string& name);
    /// A stream's delete (or deselection) of a known source, checked against the server: when
    /// the source exists again and is selected, `event` becomes a change to it.
    void confirm_gone(kube::WatchEvent& event);
    /// Whether `copy` was made from a version of its source other than the one held, and that
    /// version is not checked yet.
    bool source_moved_on(const kube::Object& copy);
    /// Reads source `name` and hands what changed to handle_source; its stream's older events
    /// are then skipped (caught_up).
    void read_source_now(const std::string& name, std::chrono::steady_clock::time_point at);
    using Clock = std::chrono::steady_clock;
    /// A source event that arrived at `at` (`replayed`: see StreamEvent).
    void handle_source(const kube::WatchEvent& event, Clock::time_point at, bool replayed);
    /// Plans and writes one copy; false when that failed.
    bool handle_target(const std::string& ns, const std::string& name,
                       const std::optional<kube::Object>& copy);
    /// A stream's list; false when a write it led to failed.
    bool handle_relist(StreamEvent& event);
    void handle_namespace(const kube::WatchEvent& event);
    void add_target(const std::string& ns, bool list_now);
    /// One pass of each source of `names` over `namespaces`; `fresh` reads every copy (no
    /// cache). False when a copy failed.
    bool sync_sources(const std::vector<std::string>& names,
                      const std::set<std::string>& namespaces, bool fresh = false);
    void orphan(const std::string& name, const std::string& ns);
    /// Reports what became of a copy planned from the source at `source_rv` ("" for an orphan).
    void report(const TargetOutcome& outcome, const std::string& source_rv);
    /// Every stream has had its first list: ready, and, when this replica wrote all it was to
    /// write and nothing failed, the first pass is the last sync.
    void first_lists_done();
    void mark_synced();
    void resync_all();
    /// Reads the sources again (a paged list) and feeds what changed to handle_source; until
    /// the source stream reaches what was read, its older events are skipped (caught_up).
    void refresh_sources();
    /// Whether a source stream event is at or past the last refresh of its source.
    bool caught_up(const kube::WatchEvent& event);
    /// Feeds a complete list of the selected sources to handle_source: changes, and deletes
    /// for cached sources the list no longer has.
    /// `only`: the list was of that source's name alone (a per-name stream).
    void apply_listed_sources(std::vector<kube::Object> listed, const std::string& only = "");
    void save_state();
    /// Plans `source` (as held: sealed for a sensitive kind) into `copy` (nothing: there is
    /// none) and writes what the plan says. A sealed plan decides only that nothing is to be
    /// written; otherwise the source's values come from `reads` and a sealed copy is read, and
    /// the plan is made again from them.
    void plan_and_apply(const kube::Object& source, std::optional<kube::Object> copy,
                        const KeyHashes* digests, SourceReads& reads, TargetOutcome& o);
    /// What a pass plans a copy from: `source` as held, or the source read again (kept alive
    /// by `again`) when a newer version of it waits in the queue (SourceNews) or the copy's
    /// read was slow (`slow_read`: its cluster coming back, while the loop could not take
    /// events); nullptr when it is gone or no longer selected (its event reports the copies).
    /// So a copy is written once, from the source as it is by then, not once from the held
    /// version and again from the queued one. The pass hands what it read to adopt_source.
    const kube::Object* latest_source(const kube::Object& source, bool slow_read,
                                      SourceReads& reads, SourceReads::Read& again);
    /// `now`, read from the server, becomes the held version of source `name` (handle_source:
    /// a pass if its values changed), and its stream's older events are skipped (caught_up).
    void adopt_source(const std::string& name, std::optional<kube::Object> now,
                      Clock::time_point at);
    /// Notes a source event as a stream thread queues it (SourceNews).
    void note_news(const StreamEvent& event);
    /// value_digests of a source, kept for its resourceVersion: every echo of a pass's writes
    /// plans its copy again, and hashing the source's values each time was 5% of the
    /// watcher's CPU in a pass of 10,000 copies.
    std::shared_ptr<const KeyHashes> digests_of(const kube::Object& source);

    kube::ApiClient& api_;         ///< the targets' cluster (and the source's, in one cluster)
    kube::ApiClient& source_api_;  ///< the source's cluster
    bool across_ = false;          ///< the source is in another cluster than the targets
    WatchConfig config_;
    std::function<void(const WatchAction&)> on_action_;
    std::function<void(const std::string&)> log_;
    std::optional<LabelSelector> selector_;
    bool cluster_scope_ = false;
    /// Cluster scope on config_.shared_stream (decided by use_cluster_scope), and this
    /// watcher's id there while subscribed.
    bool on_shared_stream_ = false;
    std::optional<int> shared_id_;
    Clock::time_point last_resync_{};
    bool was_leading_ = false;
    /// Cluster scope without one name to filter on: the source namespace's stream brings the
    /// sources, a cluster-wide stream of managed ConfigMaps the copies.
    bool split_cluster_ = false;
    EventQueue queue_;
    std::unique_ptr<StreamRunner> streams_;
    std::unique_ptr<StreamRunner> source_streams_;  ///< across clusters: the source's
    mutable std::mutex mutex_;       // guards the two sets below (read by stream threads)
    std::set<std::string> targets_;  ///< target namespaces
    std::set<std::string> source_names_;
    std::map<std::string, kube::Object> sources_;    ///< name -> source (sealed if sensitive)
    PassSchedule schedule_;                          ///< changed sources waiting for a pass
    std::map<std::string, std::string> awaited_rv_;  ///< source -> RV its stream must reach
    SourceNews news_;  ///< the newest version of each source queued for the loop
    /// source -> versions of it that copies named and read_source_now found not newer than
    /// the one held (never newer later: checked once each)
    std::map<std::string, std::set<std::string>> versions_checked_;
    Clock::time_point last_refresh_{};
    std::map<std::string, std::string> stream_rvs_;
    std::set<std::string> listed_once_;  ///< streams past their first list
    /// copy -> "ACTION COPY_RV SOURCE_RV" reported: a copy out of step is reported once per
    /// state of it and of its source.
    std::map<kube::ObjectRef, std::string> drift_seen_;
    enum class CopyState { conflict, orphaned, error };
    /// copy -> how it was last reported out of step (guarded by mutex_): copy_counts().
    std::map<kube::ObjectRef, CopyState> out_of_step_;
    std::int64_t last_write_unix_ms_ = 0;  // guarded by mutex_
    /// Records what report() says of a copy.
    void note_copy_state(const TargetOutcome& o);
    CopyCache copies_;     ///< what is known of the copies
    CopyRetries retries_;  ///< copies whose read or write failed, tried again after a backoff
    WatchStats stats_;
    std::atomic<bool> ready_{false};
    std::set<std::string> first_lists_;  ///< streams whose first list is yet to come
    bool first_pass_failed_ = false;     ///< a write of the first lists' pass failed
    Takeover takeover_;
    std::atomic<Clock::rep> beat_{0};
    std::mutex digests_mutex_;  // guards digests_ (handle_target runs on several threads)
    /// source name -> its resourceVersion and value_digests
    std::map<std::string, std::pair<std::string, std::shared_ptr<const KeyHashes>>> digests_;
};

}  // namespace cmsync
