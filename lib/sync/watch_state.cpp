#include "sync/watch_state.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "error.hpp"
#include "kube/json.hpp"

namespace cmsync {

namespace {

rapidjson::Value string_map(const std::map<std::string, std::string>& m,
                            rapidjson::Document::AllocatorType& a) {
    rapidjson::Value out(rapidjson::kObjectType);
    for (const auto& [k, v] : m) {
        out.AddMember(rapidjson::Value(k, a), rapidjson::Value(v, a), a);
    }
    return out;
}

std::map<std::string, std::string> read_map(const rapidjson::Value* object) {
    std::map<std::string, std::string> out;
    if (object != nullptr) {
        for (const auto& m : object->GetObject()) {
            if (m.value.IsString()) {
                out.emplace(m.name.GetString(), m.value.GetString());
            }
        }
    }
    return out;
}

}  // namespace

std::string format_watch_state(const WatchState& state) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("version", 1, a);
    doc.AddMember("scope", rapidjson::Value(state.scope, a), a);
    doc.AddMember("resourceVersions", string_map(state.resource_versions, a), a);
    doc.AddMember("sourceDigests", string_map(state.source_digests, a), a);
    return kube::to_json(doc) + "\n";
}

WatchState parse_watch_state(const std::string& text, const std::string& path) {
    rapidjson::Document doc;
    if (const auto problem = kube::parse_json_object(text, doc); !problem.empty()) {
        throw Error(fmt::format("state file {}: {}", path, problem));
    }
    if (!doc.HasMember("version") || !doc["version"].IsInt() || doc["version"].GetInt() != 1) {
        throw Error(
            fmt::format("state file {}: not a kubectl-cmsync state file (version 1)", path));
    }
    WatchState state;
    state.scope = kube::json_string(doc, "scope");
    state.resource_versions = read_map(kube::json_object(doc, "resourceVersions"));
    state.source_digests = read_map(kube::json_object(doc, "sourceDigests"));
    return state;
}

void write_file_atomically(const std::string& path, const std::string& text) {
    const auto tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(fmt::format("state file {}: {}", tmp, std::strerror(errno)));
    }
    std::size_t written = 0;
    while (written < text.size()) {
        const auto n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            throw Error(fmt::format("state file {}: {}", tmp, std::strerror(err)));
        }
        written += static_cast<std::size_t>(n);
    }
    ::fchmod(fd, 0600);
    ::fsync(fd);
    ::close(fd);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        throw Error(fmt::format("state file {}: {}", path, std::strerror(errno)));
    }
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw Error(fmt::format("state file {}: {}", path, std::strerror(errno)));
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace cmsync
