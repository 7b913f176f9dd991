#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "kube/api_client.hpp"
#include "watch/watch_streams.hpp"

namespace cmsync {

/// One cluster-wide stream of a kind shared by the watchers of many rules: a thousand rules
/// of ten namespaces each list and watch once between them, not eleven thousand times (each
/// stream cost a list, a watch and about 17 KiB). Each event goes to the watchers it is
/// relevant to; each list, cut to what is relevant to each, to every watcher.
///
/// A watcher that joins gets a list taken after it joined (its first list), then the events
/// that follow it: joining restarts the stream (a list, then a watch from it), and every
/// watcher gets that list, since the watch it followed ends there. Joins during a list wait for
/// the next one. A restart waits until no watcher has joined for a moment (a thousand rules
/// starting together join within a second or two: one list), since every list reaches every
/// watcher, and one taken while a watcher writes its copies shows them missing (its creates
/// then meet 409s: harmless, but twice the requests).
class SharedStream {
  public:
    /// A watcher's end of the stream: events go to `queue` under the stream key `key`, those
    /// `relevant` keeps (called on the stream's threads); `known` as StreamSpec::known.
    struct Subscriber {
        EventQueue* queue = nullptr;
        std::string key;
        std::function<bool(const std::string& ns, const std::string& name)> relevant;
        std::function<bool(const kube::Object&)> known;
        /// The only namespaces `relevant` may keep anything of (the stream asks it of events in
        /// these alone); none: any namespace.
        std::optional<std::vector<std::string>> namespaces;
    };

    SharedStream(kube::ApiClient& api, kube::Kind kind, int chunk_size,
                 std::function<void(const std::string&)> log);
    ~SharedStream();
    SharedStream(const SharedStream&) = delete;
    SharedStream& operator=(const SharedStream&) = delete;

    /// Whether this process may list and watch the kind in every namespace (asked once).
    bool allowed();
    /// Adds a watcher; returns its id.
    int subscribe(Subscriber subscriber);
    /// Removes a watcher: once this returns, nothing more reaches its queue.
    void unsubscribe(int id);

  private:
    struct Entry {
        Subscriber subscriber;
        /// The list (restart number) from which it gets events: until then it waits.
        long from_list = 0;
    };
    void dispatch();
    /// Under mutex_: restarts the stream when a watcher waits and no list is under way.
    void restart_if_wanted(std::unique_lock<std::mutex>& lock);
    bool any_relevant(const std::string& ns, const std::string& name);
    /// Under mutex_: calls f(id, entry) for each watcher that may find `ns` relevant.
    template <typename F>
    void each_candidate(const std::string& ns, F&& f);
    void deliver(StreamEvent& event);

    kube::ApiClient& api_;
    kube::Kind kind_;
    std::function<void(const std::string&)> log_;
    WatchStats stats_;  ///< the runner's (not in the rules' metrics)
    EventQueue queue_;
    StreamRunner runner_;
    std::mutex mutex_;  ///< guards all below
    std::map<int, Entry> subscribers_;
    std::map<std::string, std::set<int>> by_namespace_;  ///< of those that say their namespaces
    std::set<int> anywhere_;                             ///< of those that do not
    int next_id_ = 0;
    long restarts_ = 0;            ///< lists started by a join
    bool listing_ = false;         ///< the last restart's list has not come yet
    bool restart_wanted_ = false;  ///< a watcher joined after that list started
    std::chrono::steady_clock::time_point first_join_{};  ///< of those waiting
    std::chrono::steady_clock::time_point last_join_{};
    std::optional<bool> allowed_;
    bool stop_ = false;
    std::thread dispatcher_;
};

}  // namespace cmsync
