#include "watch/watch_state.hpp"

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
#include <string_view>

#include "error.hpp"
#include "kube/json.hpp"
#include "util/sha256.hpp"

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

// 0 or the errno of the failed write.
int write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const auto n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno != EINTR) {
            return errno;
        }
        text.remove_prefix(n < 0 ? 0 : static_cast<std::size_t>(n));
    }
    return 0;
}

// In a directory anyone may write to and that lacks the sticky bit, another user can replace
// the state file or its temporary file between our steps.
void refuse_shared_directory(const std::string& path) {
    const auto slash = path.rfind('/');
    const auto dir = slash == std::string::npos ? std::string(".")
                     : slash == 0               ? std::string("/")
                                                : path.substr(0, slash);
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) != 0 &&
        (st.st_mode & S_ISVTX) == 0) {
        throw Error(
            fmt::format("state file {}: directory {} is writable by everyone and not "
                        "sticky; choose a directory only you can write to",
                        path, dir));
    }
}

}  // namespace

std::string source_fingerprint(const kube::Object& source) {
    if (source.kind.sensitive) {
        return "rv:" + source.resource_version;
    }
    std::string all;
    for (const auto& [key, value] : source.data) {
        all += fmt::format("{}:{}:{}:{}\n", key, value.binary ? 'b' : 't', value.bytes.size(),
                           sha256_hex(value.bytes));
    }
    return sha256_hex(all);
}

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
    refuse_shared_directory(path);
    std::string tmp = path + ".XXXXXX";
    // A fresh random name opened with O_CREAT|O_EXCL (and O_NOFOLLOW): a symlink planted beside
    // the state file is never followed, and the file is born 0600.
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        throw Error(fmt::format("state file {}: cannot create a temporary file beside it: {}", path,
                                std::strerror(errno)));
    }
    int err = write_all(fd, text);
    if (err == 0 && ::fsync(fd) != 0) {
        err = errno;
    }
    ::close(fd);
    if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) {
        err = errno;
    }
    if (err != 0) {
        ::unlink(tmp.c_str());
        throw Error(fmt::format("state file {}: {}", path, std::strerror(err)));
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
