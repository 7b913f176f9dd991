// ApiClient against a hostile server, behind a fake of the HTTP edge (unit tests only).
#include "kube/api_client.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <deque>

#include "api_fixture.hpp"
#include "canary.hpp"
#include "kube/log_redaction.hpp"
#include "kube/watch_decoder.hpp"
#include "plan/ownership.hpp"
#include "test_inputs.hpp"

using namespace cmsync;

namespace {

class FakeServer : public http::Transport {
  public:
    std::deque<http::Response> answers;
    std::vector<http::Request> requests;
    /// A watch's body, chunk by chunk, until the sink says stop.
    std::vector<std::string> stream_chunks;
    std::size_t streamed = 0;

    http::Response send(const http::Request& r) override {
        requests.push_back(r);
        REQUIRE_FALSE(answers.empty());
        auto a = answers.front();
        answers.pop_front();
        return a;
    }
    http::Response stream(const http::Request& r, const http::BodySink& sink,
                          const http::CancelCheck&) override {
        requests.push_back(r);
        for (const auto& chunk : stream_chunks) {
            ++streamed;
            if (!sink(chunk)) {
                break;
            }
        }
        return http::Response{200, {}, ""};
    }
};

using Fixture = ApiFixture<FakeServer>;

}  // namespace

TEST_CASE("a watch event past 16 MiB ends the stream with an error") {
    Fixture f;
    const auto chunk = test_input("watch_endless_line.txt");
    f.server.stream_chunks.assign(2 * kube::kMaxWatchEvent / chunk.size(), chunk);
    CHECK_THROWS_WITH_AS(
        f.api.watch_objects(
            kube::kConfigMap, "a", {}, [](kube::WatchEvent&&) { return true; }, nullptr),
        "watch configmaps in namespace \"a\" (GET https://s/api/v1/namespaces/a/configmaps): "
        "a watch event is larger than 16 MiB",
        Error);
    CHECK(f.server.streamed == kube::kMaxWatchEvent / chunk.size() + 1);
}

TEST_CASE("no Authorization header goes to a plain http server") {
    Fixture f;
    f.config.server = "http://s";
    f.config.token = "sekrit";
    f.server.answers = {http::Response{404, {}, ""}};
    CHECK_FALSE(f.api.get(kube::kConfigMap, "a", "x"));
    REQUIRE(f.server.requests.size() == 1);
    for (const auto& [key, value] : f.server.requests[0].headers) {
        CHECK(key != "Authorization");
    }
}

TEST_CASE("a list whose server repeats its continue token ends with an error naming the list") {
    Fixture f;
    const http::Response page{200, {}, R"({"metadata":{"continue":"same"},"items":[]})"};
    f.server.answers.assign(5, page);
    CHECK_THROWS_WITH_AS(
        f.api.list(kube::kConfigMap, "a", {}, [](auto&&, bool) {}),
        "list configmaps in namespace \"a\" (GET https://s/api/v1/namespaces/a/configmaps): "
        "the server keeps paging: continue token repeated after 2 pages",
        Error);
    CHECK(f.server.requests.size() == 2);
}

TEST_CASE(
    "an answer that is not what was asked for names the verb, the URL and what was expected") {
    Fixture f;
    SUBCASE("get") {
        f.server.answers = {http::Response{200, {}, "[]"}};
        CHECK_THROWS_WITH_AS(f.api.get(kube::kConfigMap, "a", "x"),
                             "get configmaps \"x\" in namespace \"a\" (GET "
                             "https://s/api/v1/namespaces/a/configmaps/x): expected a ConfigMap: "
                             "not a JSON object",
                             Error);
    }
    SUBCASE("update") {
        kube::Object cm;
        cm.namespace_name = "a";
        cm.name = "x";
        f.server.answers = {http::Response{200, {}, "<html>"}};
        CHECK_THROWS_WITH_AS(
            f.api.update(cm, kube::DryRun::none),
            "update configmaps \"x\" in namespace \"a\" (PUT "
            "https://s/api/v1/namespaces/a/configmaps/x): expected a ConfigMap: not JSON: "
            "Invalid value. (offset 0)",
            Error);
    }
    SUBCASE("access review") {
        f.server.answers = {http::Response{201, {}, R"({"kind":"SelfSubjectAccessReview"})"}};
        CHECK_THROWS_WITH_AS(f.api.access_allowed("list", "configmaps", ""),
                             "create selfsubjectaccessreviews (POST "
                             "https://s/apis/authorization.k8s.io/v1/selfsubjectaccessreviews): "
                             "expected a SelfSubjectAccessReview with a status",
                             Error);
    }
    SUBCASE("list") {
        f.server.answers = {http::Response{200, {}, R"({"items":[[]]})"}};
        CHECK_THROWS_WITH_AS(f.api.list(kube::kConfigMap, "a", {}, [](auto&&, bool) {}),
                             "list configmaps in namespace \"a\" (GET "
                             "https://s/api/v1/namespaces/a/configmaps): expected a ConfigMap: not "
                             "a JSON object",
                             Error);
    }
}

TEST_CASE("Events: POST a whole Event, PATCH a series as a merge patch") {
    Fixture f;
    SUBCASE("create") {
        f.server.answers = {http::Response{201, {}, "{}"}};
        f.api.create_event("team-a", R"({"kind":"Event"})");
        REQUIRE(f.server.requests.size() == 1);
        const auto& r = f.server.requests[0];
        CHECK(r.method == "POST");
        CHECK(r.url == "https://s/apis/events.k8s.io/v1/namespaces/team-a/events");
        CHECK(r.body == R"({"kind":"Event"})");
        CHECK(http::Response{0, r.headers, ""}.header("Content-Type") == "application/json");
    }
    SUBCASE("patch") {
        f.server.answers = {http::Response{200, {}, "{}"}};
        f.api.patch_event("team-a", "app.0123456789abcdef", R"({"series":{"count":2}})");
        REQUIRE(f.server.requests.size() == 1);
        const auto& r = f.server.requests[0];
        CHECK(r.method == "PATCH");
        CHECK(r.url ==
              "https://s/apis/events.k8s.io/v1/namespaces/team-a/events/app.0123456789abcdef");
        CHECK(http::Response{0, r.headers, ""}.header("Content-Type") ==
              "application/merge-patch+json");
    }
    SUBCASE("a missing Event is ApiError 404 naming the operation") {
        f.server.answers = {http::Response{
            404, {}, R"({"kind":"Status","code":404,"reason":"NotFound","message":"gone"})"}};
        try {
            f.api.patch_event("team-a", "x.1", "{}");
            FAIL("no error");
        } catch (const ApiError& e) {
            CHECK(e.code() == 404);
            CHECK(std::string(e.what()).find("patch events \"x.1\" in namespace \"team-a\"") !=
                  std::string::npos);
        }
    }
    SUBCASE("403 is ApiError") {
        f.server.answers = {http::Response{
            403, {}, R"({"kind":"Status","code":403,"reason":"Forbidden","message":"no"})"}};
        CHECK_THROWS_AS(f.api.create_event("team-a", "{}"), ApiError);
    }
}

namespace {

// A Status as the API server answers it; `message` and `causes` (a JSON array) verbatim.
http::Response status_answer(long code, const std::string& reason, const std::string& message,
                             const std::string& causes = "") {
    auto body = fmt::format(R"({{"kind":"Status","apiVersion":"v1","status":"Failure",)"
                            R"("message":{},"reason":"{}","code":{})",
                            kube::to_json(rapidjson::Value(rapidjson::StringRef(message.c_str()))),
                            reason, code);
    if (!causes.empty()) {
        body += fmt::format(R"(,"details":{{"name":"tls","kind":"Secret","causes":{}}})", causes);
    }
    return http::Response{code, {}, body + "}"};
}

kube::Object secret_with_canary(const kube::Kind& kind) {
    kube::Object s;
    s.kind = kind;
    s.namespace_name = "b";
    s.name = "tls";
    s.type = kind.sensitive ? "Opaque" : "";
    s.data["password"] = kube::Value{kCanary, kind.sensitive};
    s.annotations[kLastSyncedAnnotation] =
        fmt::format(R"({{"password":"{}"}})", sha256_hex(kCanary));
    return s;
}

// Answers that echo the request's values, as servers do (secrets-research.md section 2).
const std::string kQuoted = fmt::format(R"(\"{}\")", kCanary);
const std::string kInvalidCauses = fmt::format(
    R"([{{"reason":"FieldValueInvalid","message":"Invalid value: {}: invalid character 'c' looking for beginning of value","field":"data[.dockerconfigjson]"}},)"
    R"({{"reason":"FieldValueInvalid","message":"Invalid value: \"kubernetes.io/tls\": field is immutable","field":"type"}},)"
    R"({{"reason":"FieldValueRequired","message":"Required value","field":"data[tls.key]"}},)"
    R"({{"reason":"FieldValueTooLong","message":"Too long: must have at most 1048576 bytes","field":"data"}}])",
    kQuoted);

}  // namespace

TEST_CASE("an error answered to a Secret request holds no value; a ConfigMap's is as it was") {
    Fixture f;
    const auto secret = secret_with_canary(kube::kSecret);
    const auto what = [&](const http::Response& answer) {
        f.server.answers = {answer};
        try {
            f.api.update(secret, kube::DryRun::none);
        } catch (const ApiError& e) {
            check_no_canary(e.what());
            return std::string(e.what());
        }
        FAIL("no error");
        return std::string();
    };
    const std::string head = R"(update secrets "tls" in namespace "b": )";
    SUBCASE("422 Invalid: rebuilt from the causes, as the server words field errors") {
        const auto message = fmt::format(
            R"(Secret "tls" is invalid: [data[.dockerconfigjson]: Invalid value: "{}")"
            R"(: invalid character 'c', type: Invalid value: "kubernetes.io/tls": field )"
            R"(is immutable])",
            kCanary);
        CHECK(what(status_answer(422, "Invalid", message, kInvalidCauses)) ==
              head +
                  R"(invalid: Secret "tls" is invalid: [data[.dockerconfigjson]: Invalid value, )"
                  R"(type: Invalid value: field is immutable, data[tls.key]: Required value, )"
                  R"(data: Too long: must have at most 1048576 bytes])");
    }
    SUBCASE("one cause reads as the server's single error") {
        CHECK(
            what(status_answer(
                422, "Invalid", R"(Secret "tls" is invalid: data[tls.key]: Required value)",
                R"([{"reason":"FieldValueRequired","message":"Required value","field":"data[tls.key]"}])")) ==
            head + R"(invalid: Secret "tls" is invalid: data[tls.key]: Required value)");
    }
    SUBCASE("400 from a decoder that quotes the request body") {
        const auto message = fmt::format(
            R"(Secret in version "v1" cannot be handled as a Secret: error found in #10 byte of ...|password":"{}|..., bigger context ...|{{"data":{{"password":"{}"}}}}|...)",
            kCanary, kube::base64_encode(kCanary));
        CHECK(what(status_answer(400, "BadRequest", message)) ==
              head + "bad request: the server's message is withheld: it may hold values");
    }
    SUBCASE("a webhook's or a policy's denial, causes with free text in their fields") {
        CHECK(
            what(status_answer(
                403, "Forbidden",
                fmt::format(
                    R"(admission webhook "deny.example.com" denied the request: password {} is weak)",
                    kCanary))) ==
            head + "forbidden (check RBAC): the server's message is withheld: it may hold values");
        CHECK(what(status_answer(
                  422, "Invalid", "denied",
                  fmt::format(R"([{{"reason":"{}","message":"{}","field":"data: {}"}}])", kCanary,
                              kCanary, kCanary))) ==
              head + R"(invalid: Secret "tls" is invalid: (a field): invalid)");
    }
    SUBCASE("an answer that is not a Status") {
        CHECK(what(http::Response{500, {}, fmt::format("panic: {}\n", kCanary)}) ==
              head + "internal server error: the server's answer is withheld: it may hold values");
    }
    SUBCASE("a ConfigMap's error keeps the server's message") {
        f.server.answers = {status_answer(422, "Invalid", "ConfigMap \"tls\" is invalid: k: v")};
        CHECK_THROWS_WITH_AS(
            f.api.update(secret_with_canary(kube::kConfigMap), kube::DryRun::none),
            R"(update configmaps "tls" in namespace "b": invalid: ConfigMap "tls" )"
            R"(is invalid: k: v)",
            ApiError);
    }
}

TEST_CASE("a Secret watch's ERROR event holds no value") {
    Fixture f;
    f.server.stream_chunks = {fmt::format(
        R"({{"type":"ERROR","object":{{"kind":"Status","code":500,"reason":"InternalError","message":"{}"}}}})"
        "\n",
        kCanary)};
    std::string message;
    f.api.watch_objects(
        kube::kSecret, "a", {},
        [&](kube::WatchEvent&& e) {
            message = e.error_message;
            return false;
        },
        nullptr);
    CHECK(message == "the server's message is withheld: it may hold values");
}

TEST_CASE("-v 10 of Secret requests: no value in any logged line, errors or answers") {
    FakeServer server;
    std::vector<std::string> lines;
    http::ClientOptions options;
    options.verbosity = 10;
    options.log = [&](const std::string& line) { lines.push_back(line); };
    options.sleep = [](std::chrono::milliseconds) {};
    options.redact_body = [](const std::string& url, const std::string& body) {
        return kube::redact_body_for_log(url, body, {kLastSyncedAnnotation});
    };
    http::Client client(server, options);
    kube::RestConfig config;
    config.server = "https://s";
    kube::Credentials credentials{config, nullptr, nullptr, nullptr};
    kube::ApiClient api(client, config, credentials);

    const auto secret = secret_with_canary(kube::kSecret);
    auto stored = kube::object_to_json(secret);
    // As `kubectl apply` leaves it: the whole object again in an annotation.
    stored.insert(
        stored.find(R"("annotations":{)") + 15,
        fmt::format(R"("kubectl.kubernetes.io/last-applied-configuration":{},)",
                    kube::to_json(rapidjson::Value(rapidjson::StringRef(stored.c_str())))));
    server.answers = {
        http::Response{200, {}, stored},                                               // get
        http::Response{201, {}, stored},                                               // dry run
        status_answer(422, "Invalid", kCanary, kInvalidCauses),                        // create
        http::Response{200, {}, R"({"kind":"SecretList","items":[)" + stored + "]}"},  // list
    };
    CHECK(api.get(kube::kSecret, "b", "tls"));
    api.create(secret, kube::DryRun::server);
    CHECK_THROWS_AS(api.create(secret, kube::DryRun::none), ApiError);
    api.list(kube::kSecret, "b", {}, [](auto&&, bool) {});
    REQUIRE(server.requests.size() == 4);
    CHECK(server.requests[1].body.find(kube::base64_encode(kCanary)) != std::string::npos);
    std::string all;
    for (const auto& line : lines) {
        all += line + "\n";
    }
    CHECK(all.find("Request Body") != std::string::npos);
    CHECK(all.find("Response Body") != std::string::npos);
    CHECK(all.find(R"("password":"***")") != std::string::npos);  // keys stay
    check_no_canary(all);
}
