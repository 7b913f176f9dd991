// ApiClient against a hostile server, behind a fake of the HTTP edge (unit tests only).
#include "kube/api_client.hpp"

#include <doctest/doctest.h>

#include <deque>

#include "api_fixture.hpp"
#include "kube/watch_decoder.hpp"
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
