#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "kube/api_client.hpp"

namespace cmsync::controller {

/// The objects of one resource in all namespaces, each as its JSON, kept in step on a thread
/// of its own as every stream of cmsync is: a paged list, then a watch from the list's
/// resourceVersion, resumed from the last one seen when the stream ends or drops, and a list
/// again after a 410. For rule objects and grants.
class ObjectFeed {
  public:
    using LogSink = std::function<void(const std::string&)>;
    /// `path`: "/apis/GROUP/VERSION/PLURAL"; `resource` ("syncrules.cmsync.io") names it in the
    /// log.
    ObjectFeed(kube::ApiClient& api, std::string path, std::string resource, LogSink log);
    ~ObjectFeed();
    ObjectFeed(const ObjectFeed&) = delete;
    ObjectFeed& operator=(const ObjectFeed&) = delete;

    void start();
    /// Ends the thread (an open watch is woken) and joins it.
    void stop();

    struct Snapshot {
        std::map<std::string, std::string> objects;  ///< "NS/NAME" ("NAME": cluster-scoped)
        bool listed = false;                         ///< the first list is in
        std::uint64_t version = 0;                   ///< counts changes
    };
    Snapshot snapshot() const;
    /// Counts changes: a new value means snapshot() holds something new.
    std::uint64_t version() const;

  private:
    void run();
    void list_and_watch(std::string& resource_version);

    kube::ApiClient& api_;
    std::string path_;
    std::string resource_;
    LogSink log_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;  // guards the members below
    std::condition_variable woken_;
    std::map<std::string, std::string> objects_;
    bool listed_ = false;
    std::uint64_t version_ = 0;
    std::thread thread_;
};

/// "NS/NAME", or "NAME" for a cluster-scoped object, of an object's JSON ("" when it has none).
std::string object_key(const std::string& json);

}  // namespace cmsync::controller
