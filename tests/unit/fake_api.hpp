#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/transport.hpp"

namespace cmsync {

/// A fake Kubernetes API server behind the HTTP edge, for unit tests of code that reads and
/// writes many objects (planner, resync, pipeline) without a server. It keeps objects by path
/// (/api/v1/namespaces/NS/RESOURCE/NAME), pages lists with limit and continue (tokens "pN": N
/// objects already sent), filters by `k=v` label selectors and `metadata.name=` field
/// selectors, stores creates, updates (resourceVersion checked) and deletes, honours dryRun,
/// and records every request. Answers scripted for one exact request line come first. It is
/// written from the API's documented behaviour, not from cmsync's code. Thread-safe: the code
/// under test sends from several threads.
class FakeApi : public http::Transport {
  public:
    /// What the fake holds of one object.
    struct Stored {
        std::string resource_version;
        std::map<std::string, std::string> labels;
        std::map<std::string, std::string> annotations;
        std::map<std::string, std::string> data;  ///< `data` only (tests use text values)
    };

    /// Stores `json`, an object of `resource` ("configmaps", "secrets") naming its namespace;
    /// its namespace then exists.
    void add(const std::string& resource, const std::string& json);
    /// A namespace with `labels` (for GET and list of namespaces, and creates in it).
    void add_namespace(const std::string& name, const std::map<std::string, std::string>& labels);
    /// Removes a stored object (as another client's delete would).
    void remove(const std::string& resource, const std::string& ns, const std::string& name);
    /// The object stored at NS/NAME, if any.
    std::optional<Stored> stored(const std::string& resource, const std::string& ns,
                                 const std::string& name) const;

    /// The next request whose line ("GET /api/v1/...?query") is `line` gets `response`.
    void script(const std::string& line, http::Response response);
    /// Every request with `method` on `path` (any query) gets `response`.
    void fail(const std::string& method, const std::string& path, http::Response response);
    /// The next list request carrying continue=`token` answers 410 Expired; `meanwhile` runs
    /// first (what changed while the token was out).
    void expire(const std::string& token, std::function<void(FakeApi&)> meanwhile = {});

    /// "METHOD /path?query" of every request, in the order received.
    std::vector<std::string> lines() const;
    /// The same, sorted (for code that sends from several threads).
    std::vector<std::string> sorted_lines() const;
    /// Lines of requests other than GET.
    std::vector<std::string> write_lines() const;
    /// Requests the fake has no route for (answered 500); tests check it stays empty.
    std::vector<std::string> unexpected() const;
    /// The body of the first request with `line`, or an empty string.
    std::string body_of(const std::string& line) const;

    http::Response send(const http::Request& request) override;
    http::Response stream(const http::Request& request, const http::BodySink& sink,
                          const http::CancelCheck& cancelled) override;

  private:
    http::Response answer(const std::string& method, const std::string& path,
                          const std::map<std::string, std::string>& query, const std::string& body);
    http::Response list(const std::string& resource, const std::string& ns,
                        const std::map<std::string, std::string>& query);
    http::Response list_namespaces(const std::map<std::string, std::string>& query);
    http::Response write(const std::string& method, const std::string& resource,
                         const std::string& ns, const std::string& name,
                         const std::map<std::string, std::string>& query, const std::string& body);

    mutable std::recursive_mutex mutex_;
    std::map<std::string, std::string> objects_;  ///< "RESOURCE/NS/NAME" -> JSON (key order)
    std::map<std::string, std::map<std::string, std::string>> namespaces_;  ///< name -> labels
    std::map<std::string, std::vector<http::Response>> scripted_;
    std::map<std::string, http::Response> failing_;  ///< "METHOD PATH" -> answer
    std::map<std::string, std::function<void(FakeApi&)>> expiring_;
    std::vector<std::pair<std::string, std::string>> requests_;  ///< line, body
    std::vector<std::string> unexpected_;
    long next_version_ = 100;
};

/// A ConfigMap's JSON as the server sends it (apiVersion, kind, metadata, data).
std::string configmap_json(const std::string& ns, const std::string& name,
                           const std::map<std::string, std::string>& data,
                           const std::map<std::string, std::string>& labels = {},
                           const std::map<std::string, std::string>& annotations = {});

/// A copy in `ns` of `from` ("NS/NAME") as cmsync leaves it: `data`, the managed label, and
/// last-synced with the sha256 of each of `synced` (key -> the value written then).
std::string copy_json(const std::string& ns, const std::string& name, const std::string& from,
                      const std::map<std::string, std::string>& data,
                      const std::map<std::string, std::string>& synced);

/// A Status error answer: `code`, `reason`, `message`.
http::Response status(long code, const std::string& reason, const std::string& message);

}  // namespace cmsync
