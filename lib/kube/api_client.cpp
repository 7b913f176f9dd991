#include "kube/api_client.hpp"

#include <fmt/format.h>

#include <type_traits>

#include "kube/json.hpp"
#include "kube/pager.hpp"
#include "kube/watch_decoder.hpp"

namespace cmsync::kube {

namespace {

// What failed, as dialled: `get configmaps "x" in namespace "a" (GET https://s/api/v1/...)`.
std::string dialled(const Operation& op, const std::string& method, const std::string& url) {
    return fmt::format("{} ({} {})", op.describe(), method, url.substr(0, url.find('?')));
}

// The object in an answer (its body, or a list's item already parsed); Error naming the
// request when there is none.
template <typename Answer>
Object answered_object(const Kind& kind, Answer& answer, const std::string& where) {
    try {
        if constexpr (std::is_same_v<std::remove_cv_t<Answer>, std::string>) {
            return object_from_json(kind, answer, true);
        } else {
            return object_from_value(kind, answer, true);
        }
    } catch (const Error& e) {
        throw Error(fmt::format("{}: {}", where, e.what()));
    }
}

std::string write_query(DryRun dry_run) {
    std::string query = std::string("?fieldManager=") + kFieldManager;
    if (dry_run == DryRun::server) {
        query += "&dryRun=All";
    }
    return query;
}

}  // namespace

std::string events_path(const std::string& ns) {
    return fmt::format("/apis/events.k8s.io/v1/namespaces/{}/events", query_escape(ns));
}

ApiClient::ApiClient(http::Client& http, const RestConfig& config, Credentials& credentials)
    : http_(http), config_(config), credentials_(credentials) {}

http::Request ApiClient::request(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& content_type) {
    http::Request request;
    request.method = method;
    request.url = config_.server + path;
    request.body = body;
    request.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) {
        request.headers.emplace_back("Content-Type", content_type);
    }
    if (const auto auth = credentials_.authorization(); !auth.empty()) {
        request.headers.emplace_back("Authorization", auth);
    }
    if (!config_.impersonate_user.empty()) {
        request.headers.emplace_back("Impersonate-User", config_.impersonate_user);
    }
    for (const auto& group : config_.impersonate_groups) {
        request.headers.emplace_back("Impersonate-Group", group);
    }
    return request;
}

http::Response ApiClient::call(const std::string& method, const std::string& path,
                               const std::string& body, const Operation& op,
                               const std::string& content_type) {
    for (int attempt = 0;; ++attempt) {
        auto response = http_.send(request(method, path, body, content_type));
        if (response.status == 401 && attempt == 0 && credentials_.invalidate()) {
            continue;  // an exec credential may have expired early: run the plugin once more
        }
        if (response.status >= 200 && response.status < 300) {
            return response;
        }
        if (response.status == 404 && op.verb == "get") {
            return response;
        }
        throw api_error(op, response);
    }
}

std::optional<Object> ApiClient::get(const Kind& kind, const std::string& ns,
                                     const std::string& name) {
    const Operation op{"get", std::string(kind.resource), name, ns, kind.sensitive};
    const auto path = objects_path(kind, ns) + "/" + query_escape(name);
    auto response = call("GET", path, "", op);
    if (response.status == 404) {
        return std::nullopt;
    }
    return answered_object(kind, response.body, dialled(op, "GET", config_.server + path));
}

bool ApiClient::namespace_exists(const std::string& ns) {
    const Operation op{"get", "namespaces", ns, ""};
    return call("GET", "/api/v1/namespaces/" + query_escape(ns), "", op).status != 404;
}

bool ApiClient::access_allowed(const std::string& verb, const std::string& resource,
                               const std::string& ns) {
    const Operation op{"create", "selfsubjectaccessreviews", "", ""};
    rapidjson::Document review(rapidjson::kObjectType);
    auto& a = review.GetAllocator();
    rapidjson::Value attributes(rapidjson::kObjectType);
    attributes.AddMember("verb", rapidjson::Value(verb.c_str(), a), a);
    attributes.AddMember("resource", rapidjson::Value(resource.c_str(), a), a);
    if (!ns.empty()) {
        attributes.AddMember("namespace", rapidjson::Value(ns.c_str(), a), a);
    }
    rapidjson::Value spec(rapidjson::kObjectType);
    spec.AddMember("resourceAttributes", attributes, a);
    review.AddMember("apiVersion", "authorization.k8s.io/v1", a);
    review.AddMember("kind", "SelfSubjectAccessReview", a);
    review.AddMember("spec", spec, a);
    const std::string path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    const auto response = call("POST", path, to_json(review), op);
    rapidjson::Document doc;
    const auto problem = parse_json_object(response.body, doc);
    const auto* status = problem.empty() ? json_object(doc, "status") : nullptr;
    if (status == nullptr) {
        throw Error(fmt::format("{}: expected a SelfSubjectAccessReview with a status{}",
                                dialled(op, "POST", config_.server + path),
                                problem.empty() ? "" : ": " + problem));
    }
    const auto it = status->FindMember("allowed");
    return it != status->MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

void ApiClient::create_event(const std::string& ns, const std::string& event_json) {
    const Operation op{"create", "events", "", ns};
    call("POST", events_path(ns), event_json, op);
}

void ApiClient::patch_event(const std::string& ns, const std::string& name,
                            const std::string& merge_patch_json) {
    const Operation op{"patch", "events", name, ns};
    call("PATCH", events_path(ns) + "/" + query_escape(name), merge_patch_json, op,
         "application/merge-patch+json");
}

std::string ApiClient::paged_list(const std::string& path, const ListOptions& options,
                                  const Operation& op, const PageHandler& on_page) {
    Pager pager(options.chunk_size);
    bool restart = false;
    for (;;) {
        auto query = pager.query();
        if (!options.label_selector.empty()) {
            query += "&labelSelector=" + query_escape(options.label_selector);
        }
        if (!options.field_selector.empty()) {
            query += "&fieldSelector=" + query_escape(options.field_selector);
        }
        http::Response response;
        try {
            response = call("GET", path + "?" + query, "", op);
        } catch (const ApiError& e) {
            if (e.code() == 410 && pager.on_expired()) {
                restart = true;
                continue;
            }
            throw;
        }
        const auto where = dialled(op, "GET", config_.server + path);
        // One pool the size of the page: megabytes get a mapping of their own (main.cpp), given
        // back whole when the page is done, instead of 64 KiB chunks left behind in the heap.
        auto page = std::make_unique<SizedDocument>(response.body.size());
        auto& doc = *page;
        if (const auto problem = parse_json_object(response.body, doc); !problem.empty()) {
            throw Error(fmt::format("{}: expected a list: {}", where, problem));
        }
        std::string().swap(response.body);  // parsed: not held while the page is handled
        const auto* meta = json_object(doc, "metadata");
        const auto continue_token = meta ? json_string(*meta, "continue") : std::string();
        const auto resource_version = meta ? json_string(*meta, "resourceVersion") : std::string();
        std::optional<std::int64_t> remaining;
        if (meta != nullptr) {
            if (const auto it = meta->FindMember("remainingItemCount");
                it != meta->MemberEnd() && it->value.IsInt64()) {
                remaining = it->value.GetInt64();
            }
        }
        const auto items = doc.FindMember("items");
        const std::size_t count =
            items != doc.MemberEnd() && items->value.IsArray() ? items->value.Size() : 0;
        on_page(std::move(page), restart);
        restart = false;
        try {
            if (!pager.on_page(continue_token, count, remaining)) {
                return resource_version;
            }
        } catch (const Error& e) {
            throw Error(fmt::format("{}: {}", where, e.what()));
        }
    }
}

std::string ApiClient::list(const Kind& kind, const std::string& ns, const ListOptions& options,
                            const ObjectPageSink& sink) {
    const Operation op{"list", std::string(kind.resource), "", ns, kind.sensitive};
    const auto where = dialled(op, "GET", config_.server + objects_path(kind, ns));
    return paged_list(objects_path(kind, ns), options, op,
                      [&](std::unique_ptr<SizedDocument> page, bool restart) {
                          auto& doc = *page;
                          std::vector<Object> items;
                          if (const auto it = doc.FindMember("items");
                              it != doc.MemberEnd() && it->value.IsArray()) {
                              items.reserve(it->value.Size());
                              for (auto& item : it->value.GetArray()) {
                                  if (item.IsObject() && !item.HasMember("apiVersion")) {
                                      // list items carry no apiVersion/kind; raw copies are used
                                      // for updates
                                      item.AddMember("apiVersion", "v1", doc.GetAllocator());
                                      item.AddMember(
                                          "kind",
                                          rapidjson::StringRef(kind.name.data(), kind.name.size()),
                                          doc.GetAllocator());
                                  }
                                  items.push_back(answered_object(kind, item, where));
                              }
                          }
                          page.reset();  // the page's pool (1.5x its text): not held meanwhile
                          sink(std::move(items), restart);
                      });
}

std::vector<std::string> ApiClient::list_namespace_names(const std::string& label_selector,
                                                         int chunk_size) {
    const Operation op{"list", "namespaces", "", ""};
    std::vector<std::string> names;
    ListOptions options{label_selector, "", chunk_size};
    paged_list("/api/v1/namespaces", options, op,
               [&](std::unique_ptr<SizedDocument> page, bool restart) {
                   const auto& doc = *page;
                   if (restart) {
                       names.clear();
                   }
                   if (const auto it = doc.FindMember("items");
                       it != doc.MemberEnd() && it->value.IsArray()) {
                       for (const auto& item : it->value.GetArray()) {
                           if (const auto* meta = json_object(item, "metadata")) {
                               names.push_back(json_string(*meta, "name"));
                           }
                       }
                   }
               });
    return names;
}

Object ApiClient::create(const Object& object, DryRun dry_run) {
    const Operation op{"create", std::string(object.kind.resource), object.name,
                       object.namespace_name, object.kind.sensitive};
    Object body = object;
    body.resource_version.clear();
    const auto path = objects_path(object.kind, object.namespace_name) + write_query(dry_run);
    auto response = call("POST", path, object_to_json(body), op);
    return answered_object(object.kind, response.body, dialled(op, "POST", config_.server + path));
}

Object ApiClient::update(const Object& object, DryRun dry_run) {
    const Operation op{"update", std::string(object.kind.resource), object.name,
                       object.namespace_name, object.kind.sensitive};
    const auto path = objects_path(object.kind, object.namespace_name) + "/" +
                      query_escape(object.name) + write_query(dry_run);
    auto response = call("PUT", path, object_to_json(object), op);
    return answered_object(object.kind, response.body, dialled(op, "PUT", config_.server + path));
}

void ApiClient::remove(const Kind& kind, const std::string& ns, const std::string& name,
                       const std::string& resource_version, DryRun dry_run) {
    const Operation op{"delete", std::string(kind.resource), name, ns, kind.sensitive};
    std::string body = R"({"kind":"DeleteOptions","apiVersion":"v1")";
    if (!resource_version.empty()) {
        body += fmt::format(R"(,"preconditions":{{"resourceVersion":"{}"}})", resource_version);
    }
    if (dry_run == DryRun::server) {
        body += R"(,"dryRun":["All"])";
    }
    body += "}";
    call("DELETE", objects_path(kind, ns) + "/" + query_escape(name), body, op);
}

}  // namespace cmsync::kube
