#pragma once

#include <rapidjson/document.h>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/client.hpp"
#include "kube/api_error.hpp"
#include "kube/credentials.hpp"
#include "kube/json.hpp"
#include "kube/lease.hpp"
#include "kube/object.hpp"
#include "kube/rest_config.hpp"
#include "kube/watch_event.hpp"

namespace cmsync::kube {

struct ListOptions {
    std::string label_selector;
    std::string field_selector;
    int chunk_size = 500;
};

/// Receives one page of a paged list; `restart` is true on the first page after the list
/// started over (an expired continue token): what earlier pages delivered is void.
using ObjectPageSink = std::function<void(std::vector<Object>&& items, bool restart)>;
/// The same for objects cmsync reads as JSON (rule objects): each item's JSON text.
using JsonPageSink = std::function<void(std::vector<std::string>&& items, bool restart)>;

enum class DryRun { none, server };

struct WatchOptions {
    std::string resource_version;  ///< events after this one; empty: current state first
    int timeout_seconds = 300;
    std::string label_selector;
    std::string field_selector;
};

/// Receives each event of a watch; returning false ends the watch.
using WatchHandler = std::function<bool(WatchEvent&&)>;
/// How an opened watch ended: nothing when the server closed it or its handler said stop, else
/// what watch_objects would have thrown (ApiError, 410 included; TransportError; Error).
using WatchEnded = std::function<void(std::exception_ptr)>;

/// The Kubernetes API calls cmsync makes, as typed functions. Errors are ApiError (with the
/// operation named) or TransportError; "not found" on a get is a value.
class ApiClient {
  public:
    ApiClient(http::Client& http, const RestConfig& config, Credentials& credentials);

    /// The object of `kind`, or nothing when it does not exist.
    std::optional<Object> get(const Kind& kind, const std::string& ns, const std::string& name);
    /// Lists objects of `kind` in `ns` (all namespaces when empty) page by page; returns the
    /// list's resourceVersion.
    std::string list(const Kind& kind, const std::string& ns, const ListOptions& options,
                     const ObjectPageSink& sink);
    /// Whether namespace `ns` exists (GET; a 403 is an ApiError like any other).
    bool namespace_exists(const std::string& ns);
    /// Whether the user may `verb` `resource` in `ns` (all namespaces when empty): a
    /// SelfSubjectAccessReview, which every authenticated user may send.
    bool access_allowed(const std::string& verb, const std::string& resource,
                        const std::string& ns);
    /// Names of the namespaces matching `label_selector`, paged.
    std::vector<std::string> list_namespace_names(const std::string& label_selector,
                                                  int chunk_size);
    /// POST (of object.kind); returns the stored object (or what would be stored, with dry run).
    Object create(const Object& object, DryRun dry_run);
    /// PUT with object.resource_version; a stale one gives ApiError 409.
    Object update(const Object& object, DryRun dry_run);
    /// DELETE with a resourceVersion precondition when `resource_version` is set.
    void remove(const Kind& kind, const std::string& ns, const std::string& name,
                const std::string& resource_version, DryRun dry_run);
    /// POSTs an events.k8s.io/v1 Event (`event_json`, a whole Event) into `ns`.
    void create_event(const std::string& ns, const std::string& event_json);
    /// PATCHes Event `name` of `ns` with a JSON merge patch (RFC 7386); a missing Event is
    /// ApiError 404.
    void patch_event(const std::string& ns, const std::string& name,
                     const std::string& merge_patch_json);

    /// Watches objects of `kind` in `ns` (all namespaces when empty) with bookmarks. Returns
    /// when the server ends the stream or `on_event` says stop; throws ApiError for an HTTP
    /// error (410 included) and TransportError when the connection drops.
    void watch_objects(const Kind& kind, const std::string& ns, const WatchOptions& options,
                       const WatchHandler& on_event, const http::CancelCheck& cancelled);
    /// watch_objects without a waiting thread: returns at once (or throws when the request
    /// cannot be made); `on_event`, `cancelled` and `ended` run on the transport's thread
    /// (http::Transport::open_stream) and must not block it.
    void open_watch_objects(const Kind& kind, const std::string& ns, const WatchOptions& options,
                            WatchHandler on_event, http::CancelCheck cancelled, WatchEnded ended);
    /// Lists the objects at `path` (a custom resource's, as "/apis/GROUP/VERSION/PLURAL"),
    /// `resource` naming them in errors, page by page as JSON; returns the list's
    /// resourceVersion (api_client_json.cpp).
    std::string list_json(const std::string& path, const std::string& resource,
                          const ListOptions& options, const JsonPageSink& sink);
    /// Watches the objects at `path` as watch_objects does, each event with its object's JSON
    /// (WatchEvent::object_json).
    void watch_json(const std::string& path, const std::string& resource,
                    const WatchOptions& options, const WatchHandler& on_event,
                    const http::CancelCheck& cancelled);
    /// PATCHes `path` (an object's, or its status subresource's "/status") with a JSON merge
    /// patch; `resource` and `name` name it in errors.
    void merge_patch_json(const std::string& path, const std::string& resource,
                          const std::string& name, const std::string& patch);
    /// Watches Namespaces (for --target-selector), as watch_objects.
    void watch_namespaces(const WatchOptions& options, const WatchHandler& on_event,
                          const http::CancelCheck& cancelled);
    /// watch_namespaces as open_watch_objects.
    void open_watch_namespaces(const WatchOptions& options, WatchHandler on_event,
                               http::CancelCheck cancelled, WatchEnded ended);
    /// Has open watches poll their CancelCheck now, not up to a second later: call after one
    /// may have turned true. Returns at once.
    void wake_watches() { http_.wake_streams(); }

    /// The Lease, or nothing when it does not exist (api_client_lease.cpp).
    std::optional<Lease> get_lease(const std::string& ns, const std::string& name);
    /// POST; AlreadyExists is ApiError 409.
    Lease create_lease(const Lease& lease);
    /// PUT with lease.resource_version; a stale one gives ApiError 409.
    Lease update_lease(const Lease& lease);

  private:
    /// `kind`: how event objects are read (nullptr: not at all, namespace events, or as JSON
    /// with `keep_json`).
    void watch(const std::string& path, const Kind* kind, const WatchOptions& options,
               const Operation& op, const WatchHandler& on_event,
               const http::CancelCheck& cancelled, bool keep_json = false);
    struct OpenWatch;  // api_client_watch.cpp
    void open_watch(const std::string& path, const Kind* kind, const WatchOptions& options,
                    Operation op, WatchHandler on_event, http::CancelCheck cancelled,
                    WatchEnded ended, bool keep_json = false);
    /// Sends (again, after a 401 that renewed the credentials) the request of `w`.
    void open(const std::shared_ptr<OpenWatch>& w);
    http::Request request(const std::string& method, const std::string& path,
                          const std::string& body,
                          const std::string& content_type = "application/json");
    http::Response call(const std::string& method, const std::string& path, const std::string& body,
                        const Operation& op, const std::string& content_type = "application/json");
    /// Runs a paged list of `path`; `on_page` gets each page's parsed body, to keep or free
    /// before it handles the page, and whether the list started over. Returns the list's
    /// resourceVersion.
    using PageHandler = std::function<void(std::unique_ptr<SizedDocument>, bool)>;
    std::string paged_list(const std::string& path, const ListOptions& options, const Operation& op,
                           const PageHandler& on_page);

    http::Client& http_;
    const RestConfig& config_;
    Credentials& credentials_;
};

/// "/apis/events.k8s.io/v1/namespaces/NS/events".
std::string events_path(const std::string& ns);

}  // namespace cmsync::kube
