// Watches: opened without a waiting thread (open_watch), or waited for (watch).
#include <fmt/format.h>

#include <future>
#include <optional>
#include <utility>

#include "kube/api_client.hpp"
#include "kube/pager.hpp"
#include "kube/watch_decoder.hpp"

namespace cmsync::kube {

struct ApiClient::OpenWatch {
    std::string path;  ///< and query
    std::string where;
    std::optional<Kind> kind;
    Operation op;
    WatchHandler on_event;
    http::CancelCheck cancelled;
    WatchEnded ended;
    bool keep_json = false;
    WatchDecoder decoder;
    std::string failure;  ///< an event that could not be read: the stream was ended for it
    bool renewed = false;
};

void ApiClient::open_watch(const std::string& path, const Kind* kind, const WatchOptions& options,
                           Operation op, WatchHandler on_event, http::CancelCheck cancelled,
                           WatchEnded ended, bool keep_json) {
    auto query =
        fmt::format("?watch=1&allowWatchBookmarks=true&timeoutSeconds={}", options.timeout_seconds);
    if (!options.resource_version.empty()) {
        query += "&resourceVersion=" + query_escape(options.resource_version);
    }
    if (!options.label_selector.empty()) {
        query += "&labelSelector=" + query_escape(options.label_selector);
    }
    if (!options.field_selector.empty()) {
        query += "&fieldSelector=" + query_escape(options.field_selector);
    }
    auto w = std::make_shared<OpenWatch>();
    w->path = path + query;
    w->where = fmt::format("{} (GET {})", op.describe(), config_.server + path);
    if (kind != nullptr) {
        w->kind = *kind;
    }
    w->op = std::move(op);
    w->on_event = std::move(on_event);
    w->cancelled = std::move(cancelled);
    w->ended = std::move(ended);
    w->keep_json = keep_json;
    open(w);
}

void ApiClient::open(const std::shared_ptr<OpenWatch>& w) {
    w->decoder = WatchDecoder();
    const auto sink = [w](std::string_view bytes) {
        try {
            for (auto& text : w->decoder.feed(bytes)) {
                if (!w->on_event(
                        parse_watch_event(text, w->kind ? &*w->kind : nullptr, w->keep_json))) {
                    return false;
                }
            }
        } catch (const std::exception& e) {
            w->failure = e.what();
            return false;
        }
        return true;
    };
    http_.open_stream(
        request("GET", w->path, ""), sink, w->cancelled,
        [this, w](http::Response&& response, std::exception_ptr error) {
            if (!error && !w->failure.empty()) {
                error = std::make_exception_ptr(Error(fmt::format("{}: {}", w->where, w->failure)));
            } else if (!error && response.status == 401 && !std::exchange(w->renewed, true) &&
                       credentials_.invalidate()) {
                try {
                    open(w);
                    return;
                } catch (...) {
                    error = std::current_exception();
                }
            } else if (!error && (response.status < 200 || response.status >= 300)) {
                error = std::make_exception_ptr(api_error(w->op, response));
            }
            w->ended(error);
        });
}

void ApiClient::watch(const std::string& path, const Kind* kind, const WatchOptions& options,
                      const Operation& op, const WatchHandler& on_event,
                      const http::CancelCheck& cancelled, bool keep_json) {
    std::promise<std::exception_ptr> ended;
    auto result = ended.get_future();
    open_watch(
        path, kind, options, op, on_event, cancelled,
        [&ended](std::exception_ptr error) { ended.set_value(error); }, keep_json);
    if (const auto error = result.get()) {
        std::rethrow_exception(error);
    }
}

void ApiClient::watch_objects(const Kind& kind, const std::string& ns, const WatchOptions& options,
                              const WatchHandler& on_event, const http::CancelCheck& cancelled) {
    watch(objects_path(kind, ns), &kind, options,
          Operation{"watch", std::string(kind.resource), "", ns, kind.sensitive}, on_event,
          cancelled);
}

void ApiClient::open_watch_objects(const Kind& kind, const std::string& ns,
                                   const WatchOptions& options, WatchHandler on_event,
                                   http::CancelCheck cancelled, WatchEnded ended) {
    open_watch(objects_path(kind, ns), &kind, options,
               Operation{"watch", std::string(kind.resource), "", ns, kind.sensitive},
               std::move(on_event), std::move(cancelled), std::move(ended));
}

void ApiClient::watch_namespaces(const WatchOptions& options, const WatchHandler& on_event,
                                 const http::CancelCheck& cancelled) {
    watch("/api/v1/namespaces", nullptr, options, Operation{"watch", "namespaces", "", ""},
          on_event, cancelled);
}

void ApiClient::open_watch_namespaces(const WatchOptions& options, WatchHandler on_event,
                                      http::CancelCheck cancelled, WatchEnded ended) {
    open_watch("/api/v1/namespaces", nullptr, options, Operation{"watch", "namespaces", "", ""},
               std::move(on_event), std::move(cancelled), std::move(ended));
}

}  // namespace cmsync::kube
