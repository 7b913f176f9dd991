#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <fmt/format.h>

#include "canary.hpp"
#include "kube/json.hpp"
#include "kube/log_redaction.hpp"
#include "plan/ownership.hpp"

namespace cmsync::kube {

namespace {

constexpr const char* kServer = "https://127.0.0.1:6443";

// As the command wires it: the last-synced hashes are derived from the values.
std::string redacted(const std::string& url, const std::string& body) {
    return redact_body_for_log(url, body, {cmsync::kLastSyncedAnnotation});
}

rapidjson::Document parsed(const std::string& text) {
    rapidjson::Document doc;
    REQUIRE(parse_json_object(text, doc).empty());
    return doc;
}

}  // namespace

TEST_CASE("request and response bodies at -v 8: a kind's values are masked when sensitive") {
    const std::string secret =
        R"({"kind":"Secret","metadata":{"name":"tls","annotations":{"cmsync.io/last-synced":"{\"tls.key\":\"9f86d0\"}","team":"web"}},"data":{"tls.key":"c2VjcmV0"},"stringData":{"token":"plain"},"type":"kubernetes.io/tls"})";
    SUBCASE("a ConfigMap body is logged as it is") {
        const std::string cm = R"({"kind":"ConfigMap","data":{"k":"v"}})";
        CHECK(redacted(std::string(kServer) + "/api/v1/namespaces/a/configmaps/x", cm) == cm);
        CHECK(redacted(std::string(kServer) + "/api/v1/configmaps?watch=1", cm) == cm);
    }
    SUBCASE("a Secret: keys stay, values and their hashes go") {
        for (const auto* path : {"/api/v1/namespaces/a/secrets/tls?fieldManager=kubectl-cmsync",
                                 "/api/v1/namespaces/a/secrets", "/api/v1/secrets"}) {
            CAPTURE(path);
            const auto out = redacted(std::string(kServer) + path, secret);
            CHECK(out.find("c2VjcmV0") == std::string::npos);
            CHECK(out.find("plain") == std::string::npos);
            CHECK(out.find("9f86d0") == std::string::npos);
            const auto doc = parsed(out);
            CHECK(std::string(doc["data"]["tls.key"].GetString()) == "***");
            CHECK(std::string(doc["stringData"]["token"].GetString()) == "***");
            CHECK(std::string(doc["metadata"]["annotations"]["team"].GetString()) == "web");
            CHECK(std::string(doc["type"].GetString()) == "kubernetes.io/tls");
        }
    }
    SUBCASE("a cluster Secret read for its credentials (Argo CD, applied with kubectl)") {
        const std::string argo =
            R"({"kind":"Secret","metadata":{"name":"member-b","labels":{"argocd.argoproj.io/secret-type":"cluster"},"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"stringData\":{\"config\":\"{\\\"bearerToken\\\":\\\"eyJtoken\\\"}\"}}"}},"data":{"config":"eyJiZWFyZXJUb2tlbiI6ImV5SnRva2VuIn0=","server":"aHR0cHM6Ly9tZW1iZXI="},"type":"Opaque"})";
        const auto out = redacted(
            std::string(kServer) + "/api/v1/namespaces/cmsync-system/secrets/member-b", argo);
        CHECK(out.find("eyJ") == std::string::npos);
        const auto doc = parsed(out);
        CHECK(std::string(doc["data"]["config"].GetString()) == "***");
        CHECK(
            std::string(doc["metadata"]["labels"]["argocd.argoproj.io/secret-type"].GetString()) ==
            "cluster");
    }
    SUBCASE("a list of Secrets and a watch event of one") {
        const auto list = redacted(std::string(kServer) + "/api/v1/namespaces/a/secrets",
                                   R"({"kind":"SecretList","items":[)" + secret + "]}");
        CHECK(list.find("c2VjcmV0") == std::string::npos);
        CHECK(std::string(parsed(list)["items"][0]["data"]["tls.key"].GetString()) == "***");
        const auto event = redacted(std::string(kServer) + "/api/v1/namespaces/a/secrets?watch=1",
                                    R"({"type":"ADDED","object":)" + secret + "}");
        CHECK(event.find("c2VjcmV0") == std::string::npos);
        CHECK(std::string(parsed(event)["object"]["data"]["tls.key"].GetString()) == "***");
    }
    SUBCASE("a Secret body that is not JSON is withheld whole") {
        const auto out =
            redacted(std::string(kServer) + "/api/v1/namespaces/a/secrets", "tls.key=c2VjcmV0");
        CHECK(out == "(16 bytes withheld: Secret values are not logged)");
    }
    SUBCASE("a namespace called secrets is not a Secret path") {
        const std::string ns = R"({"kind":"ConfigMap","data":{"k":"v"}})";
        CHECK(redacted(std::string(kServer) + "/api/v1/namespaces/secrets/configmaps", ns) == ns);
    }
}

TEST_CASE("-v 8 of a Secret request: errors, applied copies and watch events hold no value") {
    const std::string url = std::string(kServer) + "/api/v1/namespaces/a/secrets/tls";
    const auto quoted = fmt::format(R"(\"{}\")", cmsync::kCanary);
    const auto invalid = fmt::format(
        R"({{"kind":"Status","status":"Failure","message":"Secret \"tls\" is invalid: data[x]: Invalid value: {}","reason":"Invalid","details":{{"name":"tls","kind":"Secret","causes":[{{"reason":"FieldValueInvalid","message":"Invalid value: {}","field":"data[x]"}}]}},"code":422}})",
        quoted, quoted);
    SUBCASE("an error Status: message and causes' messages masked, fields and reasons kept") {
        const auto out = redacted(url, invalid);
        cmsync::check_no_canary(out);
        const auto doc = parsed(out);
        CHECK(std::string(doc["message"].GetString()) == "***");
        CHECK(std::string(doc["details"]["causes"][0]["field"].GetString()) == "data[x]");
        CHECK(std::string(doc["details"]["causes"][0]["reason"].GetString()) ==
              "FieldValueInvalid");
        CHECK(std::string(doc["reason"].GetString()) == "Invalid");
    }
    SUBCASE("a watch's ERROR event") {
        const auto out = redacted(std::string(kServer) + "/api/v1/namespaces/a/secrets?watch=1",
                                  R"({"type":"ERROR","object":)" + invalid + "}");
        cmsync::check_no_canary(out);
        CHECK(std::string(parsed(out)["object"]["message"].GetString()) == "***");
    }
    SUBCASE("kubectl's last-applied-configuration: the whole object again") {
        const auto applied = fmt::format(R"({{\"data\":{{\"password\":\"{}\"}}}})",
                                         cmsync::kube::base64_encode(cmsync::kCanary));
        const auto out = redacted(
            url, fmt::format(R"({{"kind":"Secret","metadata":{{"name":"tls","annotations":{{)"
                             R"("kubectl.kubernetes.io/last-applied-configuration":"{}"}}}},)"
                             R"("data":{{"password":"{}"}}}})",
                             applied, cmsync::kube::base64_encode(cmsync::kCanary)));
        cmsync::check_no_canary(out);
        CHECK(std::string(parsed(out)["metadata"]["annotations"]
                                     ["kubectl.kubernetes.io/last-applied-configuration"]
                                         .GetString()) == "***");
    }
    SUBCASE("a ConfigMap's error is logged as it is") {
        const auto cm_url = std::string(kServer) + "/api/v1/namespaces/a/configmaps/tls";
        CHECK(redacted(cm_url, invalid) == invalid);
    }
}

}  // namespace cmsync::kube
