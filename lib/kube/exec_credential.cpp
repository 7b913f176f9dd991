#include "kube/exec_credential.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <cctype>
#include <ctime>

#include "error.hpp"
#include "kube/base64.hpp"
#include "kube/json.hpp"

namespace cmsync::kube {

std::string exec_info_json(const ExecConfig& exec, const std::string& server,
                           const std::string& ca_pem) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    const auto api_version =
        exec.api_version.empty() ? "client.authentication.k8s.io/v1" : exec.api_version;
    doc.AddMember("apiVersion", rapidjson::Value(api_version, a), a);
    doc.AddMember("kind", "ExecCredential", a);
    rapidjson::Value spec(rapidjson::kObjectType);
    spec.AddMember("interactive", false, a);
    if (exec.provide_cluster_info) {
        rapidjson::Value cluster(rapidjson::kObjectType);
        cluster.AddMember("server", rapidjson::Value(server, a), a);
        if (!ca_pem.empty()) {
            cluster.AddMember("certificate-authority-data",
                              rapidjson::Value(base64_encode(ca_pem), a), a);
        }
        spec.AddMember("cluster", cluster, a);
    }
    doc.AddMember("spec", spec, a);
    return to_json(doc);
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
        return std::nullopt;
    }
    // Found by fuzzing (issue 17): fields out of range used to be normalised by timegm, and
    // "+ab:cd" made std::stol throw std::invalid_argument instead of an Error.
    if (tm.tm_year < 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
        tm.tm_sec > 60) {
        return std::nullopt;
    }
    auto rest = text.substr(static_cast<std::size_t>(consumed));
    if (!rest.empty() && rest.front() == '.') {  // fractional seconds
        rest.erase(0, rest.find_first_not_of("0123456789", 1));
    }
    const auto digits = [&](std::size_t at) {
        return std::isdigit(static_cast<unsigned char>(rest[at])) != 0 &&
               std::isdigit(static_cast<unsigned char>(rest[at + 1])) != 0;
    };
    long offset = 0;
    if (rest == "Z" || rest == "z") {
        offset = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
               digits(1) && digits(4)) {
        const long hours = (rest[1] - '0') * 10 + (rest[2] - '0');
        const long minutes = (rest[4] - '0') * 10 + (rest[5] - '0');
        if (hours > 23 || minutes > 59) {
            return std::nullopt;
        }
        offset = (hours * 60 + minutes) * 60;
        offset = rest[0] == '+' ? offset : -offset;
    } else {
        return std::nullopt;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const auto seconds = static_cast<long long>(timegm(&tm)) - offset;
    // system_clock counts nanoseconds in 64 bits: years past 2262 (a plugin's "never expires",
    // up to 9999) overflow it, so they become the latest time it can hold.
    using Clock = std::chrono::system_clock;
    const auto limit = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max());
    if (seconds >= limit.count()) {
        return Clock::time_point::max();
    }
    if (seconds <= -limit.count()) {
        return Clock::time_point::min();
    }
    return Clock::time_point(
        std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(seconds)));
}

ExecCredential parse_exec_credential(const std::string& stdout_text, const ExecConfig& exec) {
    rapidjson::Document doc;
    if (!parse_json_object(stdout_text, doc).empty()) {
        throw Error(fmt::format("exec plugin {}: output is not an ExecCredential JSON object",
                                exec.command));
    }
    const auto api_version = json_string(doc, "apiVersion");
    if (!exec.api_version.empty() && api_version != exec.api_version) {
        throw Error(fmt::format("exec plugin {}: returned apiVersion \"{}\", expected \"{}\"",
                                exec.command, api_version, exec.api_version));
    }
    const auto* status = json_object(doc, "status");
    if (status == nullptr) {
        throw Error(fmt::format("exec plugin {}: ExecCredential has no status", exec.command));
    }
    ExecCredential out;
    out.token = json_string(*status, "token");
    out.client_certificate_pem = json_string(*status, "clientCertificateData");
    out.client_key_pem = json_string(*status, "clientKeyData");
    if (out.token.empty() && (out.client_certificate_pem.empty() || out.client_key_pem.empty())) {
        throw Error(fmt::format(
            "exec plugin {}: status has neither token nor clientCertificateData+clientKeyData",
            exec.command));
    }
    if (const auto expiry = json_string(*status, "expirationTimestamp"); !expiry.empty()) {
        out.expiry = parse_rfc3339(expiry);
        if (!out.expiry) {
            throw Error(
                fmt::format("exec plugin {}: bad status.expirationTimestamp", exec.command));
        }
    }
    return out;
}

}  // namespace cmsync::kube
