#include "controller/object_feed.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <random>

#include "error.hpp"
#include "kube/json.hpp"
#include "util/backoff.hpp"

namespace cmsync::controller {

namespace {

double random_unit() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

std::string object_key(const std::string& json) {
    rapidjson::Document doc;
    if (!kube::parse_json_object(json, doc).empty()) {
        return "";
    }
    const auto* meta = kube::json_object(doc, "metadata");
    if (meta == nullptr) {
        return "";
    }
    const auto ns = kube::json_string(*meta, "namespace");
    const auto name = kube::json_string(*meta, "name");
    return ns.empty() ? name : ns + "/" + name;
}

ObjectFeed::ObjectFeed(kube::ApiClient& api, std::string path, std::string resource, LogSink log)
    : api_(api), path_(std::move(path)), resource_(std::move(resource)), log_(std::move(log)) {}

ObjectFeed::~ObjectFeed() {
    stop();
}

void ObjectFeed::start() {
    thread_ = std::thread([this] { run(); });
}

void ObjectFeed::stop() {
    stop_ = true;
    woken_.notify_all();
    api_.wake_watches();
    if (thread_.joinable()) {
        thread_.join();
    }
}

ObjectFeed::Snapshot ObjectFeed::snapshot() const {
    std::lock_guard guard(mutex_);
    return {objects_, listed_, version_};
}

std::uint64_t ObjectFeed::version() const {
    std::lock_guard guard(mutex_);
    return version_;
}

void ObjectFeed::list_and_watch(std::string& resource_version) {
    if (resource_version.empty()) {
        std::map<std::string, std::string> listed;
        resource_version = api_.list_json(path_, resource_, {},
                                          [&](std::vector<std::string>&& items, bool restart) {
                                              if (restart) {
                                                  listed.clear();
                                              }
                                              for (auto& json : items) {
                                                  auto key = object_key(json);
                                                  listed.emplace(std::move(key), std::move(json));
                                              }
                                          });
        std::lock_guard guard(mutex_);
        objects_ = std::move(listed);
        listed_ = true;
        ++version_;
    }
    kube::WatchOptions options;
    options.resource_version = resource_version;
    options.timeout_seconds = 300 + static_cast<int>(random_unit() * 300);
    api_.watch_json(
        path_, resource_, options,
        [&](kube::WatchEvent&& event) {
            if (event.type == kube::WatchEventType::error) {
                if (event.error_code == 410) {
                    log_(fmt::format("watch {}: resourceVersion too old (410): relisting",
                                     resource_));
                    resource_version.clear();
                    return false;
                }
                throw Error(fmt::format("watch {}: {}", resource_, event.error_message));
            }
            resource_version = event.resource_version;
            if (event.type == kube::WatchEventType::bookmark) {
                return !stop_;
            }
            const auto key =
                event.namespace_name.empty() ? event.name : event.namespace_name + "/" + event.name;
            std::lock_guard guard(mutex_);
            if (event.type == kube::WatchEventType::deleted) {
                objects_.erase(key);
            } else {
                objects_[key] = std::move(event.object_json);
            }
            ++version_;
            return !stop_;
        },
        [this] { return stop_.load(); });
}

void ObjectFeed::run() {
    std::string resource_version;
    Backoff backoff;
    std::string last_problem;
    while (!stop_) {
        try {
            list_and_watch(resource_version);
            backoff.reset();
            last_problem.clear();
            continue;  // the server ended the stream: resume from where it was
        } catch (const std::exception& e) {
            const auto* api_error = dynamic_cast<const ApiError*>(&e);
            if (api_error != nullptr && api_error->code() == 410) {
                resource_version.clear();
                continue;
            }
            const std::string problem =
                api_error != nullptr && api_error->code() == 404
                    ? fmt::format(
                          "{} is not installed (kubectl apply -f deploy/crds/); asking "
                          "again",
                          resource_)
                    : e.what();
            if (!stop_ && last_problem != problem) {
                log_(fmt::format("cannot read the rules: {}", problem));
            }
            last_problem = problem;
        }
        std::unique_lock lock(mutex_);
        woken_.wait_for(lock, backoff.next(random_unit()), [this] { return stop_.load(); });
    }
}

}  // namespace cmsync::controller
