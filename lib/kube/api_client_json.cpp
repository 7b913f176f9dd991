// ApiClient: objects cmsync reads as JSON text (rule objects), listed and watched as the
// kinds it syncs are.
#include <rapidjson/document.h>

#include "kube/api_client.hpp"

namespace cmsync::kube {

std::string ApiClient::list_json(const std::string& path, const std::string& resource,
                                 const ListOptions& options, const JsonPageSink& sink) {
    const Operation op{"list", resource, "", ""};
    return paged_list(path, options, op, [&](std::unique_ptr<SizedDocument> page, bool restart) {
        std::vector<std::string> items;
        if (const auto it = page->FindMember("items");
            it != page->MemberEnd() && it->value.IsArray()) {
            for (const auto& item : it->value.GetArray()) {
                if (item.IsObject()) {
                    items.push_back(to_json(item));
                }
            }
        }
        page.reset();
        sink(std::move(items), restart);
    });
}

void ApiClient::watch_json(const std::string& path, const std::string& resource,
                           const WatchOptions& options, const WatchHandler& on_event,
                           const http::CancelCheck& cancelled) {
    watch(path, nullptr, options, Operation{"watch", resource, "", ""}, on_event, cancelled, true);
}

void ApiClient::merge_patch_json(const std::string& path, const std::string& resource,
                                 const std::string& name, const std::string& patch, Until until) {
    call("PATCH", path, patch, Operation{"patch", resource, name, ""},
         "application/merge-patch+json", until);
}

}  // namespace cmsync::kube
