// The writer's error paths against a scripted transport (a fake of the HTTP edge, for unit
// tests only; the e2e suite covers the same paths against the real apiserver).
#include "sync/writer.hpp"

#include <doctest/doctest.h>

#include <deque>

#include "api_fixture.hpp"
#include "kube/json.hpp"
#include "plan/ownership.hpp"

using namespace cmsync;

namespace {

class Scripted : public http::Transport {
  public:
    std::deque<http::Response> answers;
    std::vector<http::Request> requests;
    http::Response send(const http::Request& r) override {
        requests.push_back(r);
        REQUIRE_FALSE(answers.empty());
        auto a = answers.front();
        answers.pop_front();
        return a;
    }
    http::Response stream(const http::Request& r, const http::BodySink&,
                          const http::CancelCheck&) override {
        return send(r);
    }
};

std::string target_json(const std::string& rv, const std::string& extra_key) {
    return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app","namespace":"b","resourceVersion":")" +
           rv + R"("},"data":{")" + extra_key + R"(":"x"}})";
}

const char* kConflict =
    R"({"kind":"Status","reason":"Conflict","code":409,"message":"the object has been modified"})";

struct Fixture : ApiFixture<Scripted> {
    Scripted& transport = server;
    kube::Object source = [] {
        kube::Object s;
        s.namespace_name = "a";
        s.name = "app";
        s.data["k"] = kube::Value{"v", false};
        return s;
    }();
    WriteOptions options = [] {
        WriteOptions o;
        o.sleep = [](std::chrono::milliseconds) {};
        o.jitter = [] { return 0.0; };
        return o;
    }();

    TargetOutcome planned(const std::optional<kube::Object>& target) {
        TargetOutcome o{{"a", "app"}, {"b", "app"}, {}, ""};
        o.plan = plan_target({&source, target ? &*target : nullptr, "b", std::nullopt, false});
        return o;
    }
};

}  // namespace

TEST_CASE("409 Conflict: read again, plan again, write again; the other writer's key survives") {
    Fixture f;
    std::vector<std::string> seen;  // what `observed` was told: the fresh read, then the answer
    f.options.observed = [&](const std::string&, const std::string&,
                             const std::optional<kube::Object>& now) {
        seen.push_back(now ? now->resource_version : "gone");
    };
    const auto target = kube::object_from_json(kube::kConfigMap, target_json("1", "own"), true);
    auto outcome = f.planned(target);
    f.transport.answers = {{409, {}, kConflict},
                           {200, {}, target_json("2", "theirs")},
                           {200, {}, target_json("3", "theirs")}};
    apply_outcome(f.api, f.source, outcome, f.options);
    CHECK(outcome.applied);
    CHECK(outcome.error.empty());
    CHECK(outcome.conflicts_retried == 1);
    REQUIRE(f.transport.requests.size() == 3);
    CHECK(f.transport.requests[0].method == "PUT");
    CHECK(f.transport.requests[1].method == "GET");
    const auto& last = f.transport.requests[2];
    CHECK(last.method == "PUT");
    CHECK(last.url == "https://s/api/v1/namespaces/b/configmaps/app?fieldManager=kubectl-cmsync");
    const auto sent = kube::object_from_json(kube::kConfigMap, last.body, false);
    CHECK(sent.resource_version == "2");
    CHECK(sent.data.at("theirs").bytes == "x");
    CHECK(sent.data.at("k").bytes == "v");
    CHECK(seen == std::vector<std::string>{"2", "3"});
}

TEST_CASE("observed: the answer to a create, nothing after a delete or in a server dry run") {
    Fixture f;
    std::vector<std::string> seen;  // "ns/name rv" or "ns/name gone"
    f.options.observed = [&](const std::string& ns, const std::string& name,
                             const std::optional<kube::Object>& now) {
        seen.push_back(ns + "/" + name + " " + (now ? now->resource_version : "gone"));
    };
    SUBCASE("a create") {
        auto outcome = f.planned(std::nullopt);
        f.transport.answers = {{201, {}, target_json("7", "k")}};
        apply_outcome(f.api, f.source, outcome, f.options);
        CHECK(seen == std::vector<std::string>{"b/app 7"});
    }
    SUBCASE("a deleted copy") {
        auto outcome =
            f.planned(kube::object_from_json(kube::kConfigMap, target_json("4", "own"), true));
        outcome.plan.delete_copy = true;
        f.transport.answers = {{200, {}, R"({"kind":"Status","status":"Success"})"}};
        apply_outcome(f.api, f.source, outcome, f.options);
        CHECK(f.transport.requests[0].method == "DELETE");
        CHECK(seen == std::vector<std::string>{"b/app gone"});
    }
    SUBCASE("server dry run: the answer is not the stored object") {
        f.options.dry_run = DryRunMode::server;
        auto outcome = f.planned(std::nullopt);
        f.transport.answers = {{201, {}, target_json("1", "k")}};
        apply_outcome(f.api, f.source, outcome, f.options);
        CHECK(f.transport.requests.size() == 1);
        CHECK(seen.empty());
    }
}

TEST_CASE("404 on an update: the copy planned from is gone, read again and create it") {
    Fixture f;
    auto outcome =
        f.planned(kube::object_from_json(kube::kConfigMap, target_json("1", "own"), true));
    f.transport.answers = {
        {404, {}, R"({"kind":"Status","reason":"NotFound","code":404,"message":"gone"})"},
        {404, {}, R"({"kind":"Status","reason":"NotFound","code":404,"message":"gone"})"},
        {201, {}, target_json("2", "k")}};
    apply_outcome(f.api, f.source, outcome, f.options);
    CHECK(outcome.applied);
    CHECK(outcome.error.empty());
    REQUIRE(f.transport.requests.size() == 3);
    CHECK(f.transport.requests[0].method == "PUT");
    CHECK(f.transport.requests[1].method == "GET");
    CHECK(f.transport.requests[2].method == "POST");
    CHECK(outcome.plan.action == TargetAction::create);
}

TEST_CASE("409 AlreadyExists after a create: read and update") {
    Fixture f;
    auto outcome = f.planned(std::nullopt);
    f.transport.answers = {{409, {}, R"({"kind":"Status","reason":"AlreadyExists","code":409})"},
                           {200, {}, target_json("5", "own")},
                           {200, {}, target_json("6", "own")}};
    apply_outcome(f.api, f.source, outcome, f.options);
    CHECK(outcome.applied);
    CHECK(f.transport.requests[0].method == "POST");
    CHECK(f.transport.requests[2].method == "PUT");
    CHECK(outcome.plan.action == TargetAction::update);
}

TEST_CASE("conflict retries are bounded") {
    Fixture f;
    const auto target = kube::object_from_json(kube::kConfigMap, target_json("1", "own"), true);
    auto outcome = f.planned(target);
    for (int i = 0; i < 6; ++i) {
        f.transport.answers.push_back({409, {}, kConflict});
        if (i < 5) {
            f.transport.answers.push_back({200, {}, target_json(std::to_string(i + 2), "own")});
        }
    }
    apply_outcome(f.api, f.source, outcome, f.options);
    CHECK_FALSE(outcome.applied);
    CHECK(outcome.error == "gave up after 6 conflicting writes: the copy keeps changing");
}

TEST_CASE("other API errors end up in the outcome, not as exceptions") {
    Fixture f;
    const auto target = kube::object_from_json(kube::kConfigMap, target_json("1", "own"), true);
    auto outcome = f.planned(target);
    f.transport.answers = {
        {403, {}, R"({"kind":"Status","reason":"Forbidden","code":403,"message":"no"})"}};
    apply_outcome(f.api, f.source, outcome, f.options);
    CHECK(outcome.error ==
          "update configmaps \"app\" in namespace \"b\": forbidden (check RBAC): no");
}

TEST_CASE("dry runs") {
    Fixture f;
    auto outcome = f.planned(std::nullopt);
    SUBCASE("client: nothing sent") {
        f.options.dry_run = DryRunMode::client;
        apply_outcome(f.api, f.source, outcome, f.options);
        CHECK(f.transport.requests.empty());
    }
    SUBCASE("server: dryRun=All") {
        f.options.dry_run = DryRunMode::server;
        f.transport.answers = {{201, {}, target_json("1", "k")}};
        apply_outcome(f.api, f.source, outcome, f.options);
        CHECK(f.transport.requests[0].url ==
              "https://s/api/v1/namespaces/b/configmaps?fieldManager=kubectl-cmsync&dryRun=All");
    }
}

TEST_CASE("the write gate: a standby writes nothing; a leader's writes end with its term") {
    Fixture f;
    const auto target = kube::object_from_json(kube::kConfigMap, target_json("1", "own"), true);
    SUBCASE("no term: not written") {
        f.options.write_gate = [] { return std::nullopt; };
        auto outcome = f.planned(target);
        apply_outcome(f.api, f.source, outcome, f.options);
        CHECK_FALSE(outcome.applied);
        CHECK(outcome.error == "not written: this replica does not hold the leader Lease");
        CHECK(f.transport.requests.empty());
    }
    SUBCASE("a term: the request carries its end, and the server is told the time left") {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(8);
        f.options.write_gate = [end] { return std::optional(end); };
        f.transport.answers = {{200, {}, target_json("2", "own")}};
        auto outcome = f.planned(target);
        apply_outcome(f.api, f.source, outcome, f.options);
        CHECK(outcome.applied);
        REQUIRE(f.transport.requests.size() == 1);
        const auto& put = f.transport.requests[0];
        CHECK(put.deadline == end);
        const auto at = put.url.find("&timeout=");
        REQUIRE(at != std::string::npos);
        const auto ms = std::stol(put.url.substr(at + 9));
        CHECK(ms > 7000);
        CHECK(ms <= 8000);
    }
}
