#include <doctest/doctest.h>

#include "error.hpp"
#include "kube/api_error.hpp"
#include "kube/base64.hpp"
#include "kube/credentials.hpp"
#include "kube/exec_credential.hpp"
#include "kube/json.hpp"
#include "kube/object.hpp"
#include "kube/pager.hpp"

using namespace cmsync::kube;

TEST_CASE("base64 round trips and rejects junk") {
    for (const std::string& s :
         std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
        CHECK(base64_decode(base64_encode(s)) == s);
    }
    CHECK(base64_encode("hello") == "aGVsbG8=");
    CHECK(base64_decode("aGVs\nbG8=") == std::string("hello"));
    CHECK_FALSE(base64_decode("aGVsbG8"));
    CHECK_FALSE(base64_decode("a=Vs"));
    CHECK_FALSE(base64_decode("****"));
}

TEST_CASE("pager: loop on continue, never on item count") {
    Pager pager(500);
    CHECK(pager.query() == "limit=500");
    CHECK(pager.on_page("tok/1+="));
    CHECK(pager.query() == "limit=500&continue=tok%2F1%2B%3D");
    CHECK(pager.on_page("tok2"));  // a page may hold zero items and still continue
    CHECK_FALSE(pager.on_page(""));
    CHECK(pager.pages() == 3);
}

TEST_CASE("pager: an expired token restarts from the beginning, boundedly") {
    Pager first(10);
    CHECK_FALSE(first.on_expired());  // a 410 on the first page is an error
    Pager pager(10, 2);
    pager.on_page("a");
    CHECK(pager.on_expired());
    CHECK(pager.query() == "limit=10");
    CHECK(pager.restarts() == 1);
    CHECK(pager.pages() == 0);
    pager.on_page("b");
    CHECK(pager.on_expired());
    pager.on_page("c");
    CHECK_FALSE(pager.on_expired());
}

TEST_CASE("api_error names verb, resource and namespace") {
    cmsync::http::Response forbidden{
        403,
        {},
        R"({"kind":"Status","status":"Failure","message":"configmaps \"x\" is forbidden: User \"u\" cannot get resource","reason":"Forbidden","code":403})"};
    const auto e = api_error({"get", "configmaps", "x", "ns-b"}, forbidden);
    CHECK(e.code() == 403);
    CHECK(e.reason() == "Forbidden");
    CHECK(std::string(e.what()) ==
          "get configmaps \"x\" in namespace \"ns-b\": forbidden (check RBAC): configmaps \"x\" "
          "is forbidden: User \"u\" cannot get resource");
    SUBCASE("a plain-text body is reported as text") {
        cmsync::http::Response throttled{
            429, {{"Retry-After", "1"}}, "Too many requests, please try again later.\n"};
        const auto t = api_error({"list", "configmaps", "", "a"}, throttled);
        CHECK(std::string(t.what()) ==
              "list configmaps in namespace \"a\": too many requests: "
              "Too many requests, please try again later.");
        CHECK(t.reason().empty());
    }
    SUBCASE("cluster scope") {
        cmsync::http::Response gone{
            410, {}, R"({"kind":"Status","reason":"Expired","message":"too old","code":410})"};
        const auto g = api_error({"list", "namespaces", "", ""}, gone);
        CHECK(std::string(g.what()) == "list namespaces: gone: too old");
        CHECK(g.reason() == "Expired");
    }
}

TEST_CASE("configmap JSON: data and binaryData in one key space, unknown fields kept") {
    const std::string json =
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"5","labels":{"l":"1"},"annotations":{"x":"y"},"finalizers":["keep/me"],"managedFields":[{"manager":"m"}]},"data":{"t":"text"},"binaryData":{"b":"AAE="},"immutable":true})";
    auto cm = object_from_json(kConfigMap, json, true);
    CHECK(cm.name == "a");
    CHECK(cm.resource_version == "5");
    CHECK(cm.data.at("t") == Value{"text", false});
    CHECK(cm.data.at("b") == Value{std::string("\0\1", 2), true});
    CHECK(cm.immutable);
    CHECK(object_data_size(cm) == 6);
    // What is kept for an update holds neither the values (parsed once) nor managedFields.
    CHECK(cm.raw.find("keep/me") != std::string::npos);
    CHECK(cm.raw.find("text") == std::string::npos);
    CHECK(cm.raw.find("AAE=") == std::string::npos);
    CHECK(cm.raw.find("managedFields") == std::string::npos);
    cm.data.erase("t");
    cm.data["moved"] = Value{"m", false};
    const auto back = object_from_json(kConfigMap, object_to_json(cm), false);
    CHECK(back.data.size() == 2);
    CHECK(back.data.at("moved").bytes == "m");
    const auto out = object_to_json(cm);
    CHECK(out.find("keep/me") != std::string::npos);
    CHECK(out.find("managedFields") == std::string::npos);
    CHECK_THROWS_AS(object_from_json(kConfigMap, "[]", false), cmsync::Error);
}

TEST_CASE("configmap from a parsed object (watch events, list items): as from its text") {
    const std::string json =
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"5","uid":"u","labels":{"l":"1"},"annotations":{"x":"y"},"finalizers":["keep/me"],"managedFields":[{"manager":"m"}]},"data":{"t":"text"},"binaryData":{"b":"AAE="},"immutable":true})";
    for (const bool keep_raw : {true, false}) {
        const auto from_text = object_from_json(kConfigMap, json, keep_raw);
        rapidjson::Document doc;
        REQUIRE(parse_json_object(json, doc).empty());
        const auto from_value = object_from_value(kConfigMap, doc, keep_raw);
        CHECK(from_value.namespace_name == from_text.namespace_name);
        CHECK(from_value.name == from_text.name);
        CHECK(from_value.resource_version == from_text.resource_version);
        CHECK(from_value.uid == from_text.uid);
        CHECK(from_value.labels == from_text.labels);
        CHECK(from_value.annotations == from_text.annotations);
        CHECK(from_value.data == from_text.data);
        CHECK(from_value.immutable == from_text.immutable);
        CHECK(from_value.raw == from_text.raw);
    }
    rapidjson::Document item;
    REQUIRE(parse_json_object(R"({"items":[1]})", item).empty());
    CHECK_THROWS_AS(object_from_value(kConfigMap, item["items"][0], true), cmsync::Error);
    REQUIRE(parse_json_object(R"({"binaryData":{"b":"not base64!"}})", item).empty());
    CHECK_THROWS_AS(object_from_value(kConfigMap, item, true), cmsync::Error);
}

TEST_CASE("exec credentials") {
    ExecConfig exec;
    exec.api_version = "client.authentication.k8s.io/v1";
    exec.command = "plugin";
    exec.provide_cluster_info = true;
    SUBCASE("exec info carries the cluster when asked") {
        const auto info = exec_info_json(exec, "https://s", "PEM");
        CHECK(
            info ==
            R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":"https://s","certificate-authority-data":"UEVN"}}})");
    }
    SUBCASE("token with expiry") {
        const auto c = parse_exec_credential(
            R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t0k","expirationTimestamp":"2030-01-02T03:04:05Z"}})",
            exec);
        CHECK(c.token == "t0k");
        REQUIRE(c.expiry);
        CHECK(std::chrono::system_clock::to_time_t(*c.expiry) == 1893553445);
    }
    SUBCASE("errors never quote the output") {
        CHECK_THROWS_WITH_AS(parse_exec_credential("secret-token-text", exec),
                             "exec plugin plugin: output is not an ExecCredential JSON object",
                             cmsync::Error);
        CHECK_THROWS_WITH_AS(
            parse_exec_credential(
                R"({"apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"x"}})",
                exec),
            doctest::Contains("expected \"client.authentication.k8s.io/v1\""), cmsync::Error);
        CHECK_THROWS_AS(
            parse_exec_credential(R"({"apiVersion":"client.authentication.k8s.io/v1","status":{}})",
                                  exec),
            cmsync::Error);
    }
    SUBCASE("rfc3339 offsets") {
        CHECK(parse_rfc3339("2030-01-02T04:04:05+01:00") == parse_rfc3339("2030-01-02T03:04:05Z"));
        CHECK(parse_rfc3339("2030-01-02T03:04:05.123Z") == parse_rfc3339("2030-01-02T03:04:05Z"));
        CHECK_FALSE(parse_rfc3339("yesterday"));
    }
    // Found by fuzzing (issue 17): std::invalid_argument and a signed overflow escaped here.
    SUBCASE("expirationTimestamp with an offset that is not digits") {
        CHECK_THROWS_WITH_AS(
            parse_exec_credential(
                R"({"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"2030-01-02T03:04:05+ab:cd"}})",
                exec),
            "exec plugin plugin: bad status.expirationTimestamp", cmsync::Error);
    }
    SUBCASE("expirationTimestamp past what system_clock holds") {
        const auto c = parse_exec_credential(
            R"({"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"4051-12-31T23:59:59Z"}})",
            exec);
        CHECK(c.expiry == std::chrono::system_clock::time_point::max());
    }
    SUBCASE("rfc3339 fields out of range") {
        for (const char* text :
             {"2030-13-02T03:04:05Z", "2030-01-00T03:04:05Z", "2030-01-02T24:04:05Z",
              "2030-01-02T03:60:05Z", "-999-01-02T03:04:05Z", "2030-01-02T03:04:05+24:00"}) {
            CAPTURE(text);
            CHECK_FALSE(parse_rfc3339(text));
        }
    }
}

TEST_CASE("credentials: exec output cached until expiry, re-run after invalidate") {
    RestConfig config;
    config.server = "https://s";
    ExecConfig exec;
    exec.command = "p";
    config.exec = exec;
    int runs = 0;
    auto now = std::chrono::system_clock::from_time_t(1000);
    Credentials creds(
        config,
        [&](const ExecConfig&, const std::string&) {
            ++runs;
            return std::string(R"({"status":{"token":"t)") + std::to_string(runs) +
                   R"(","expirationTimestamp":"1970-01-01T00:20:00Z"}})";
        },
        [](const std::string&) { return std::string(); }, [&] { return now; });
    CHECK(creds.authorization() == "Bearer t1");
    CHECK(creds.authorization() == "Bearer t1");
    now = std::chrono::system_clock::from_time_t(1200);  // expired
    CHECK(creds.authorization() == "Bearer t2");
    CHECK(creds.invalidate());
    CHECK(creds.authorization() == "Bearer t3");
    CHECK(runs == 3);
}

TEST_CASE("credentials: token file re-read every minute and after a 401, basic auth") {
    RestConfig config;
    config.server = "https://s";
    config.token_file = "/tok";
    std::string content = "one\n";
    int reads = 0;
    auto now = std::chrono::system_clock::from_time_t(1000);
    Credentials creds(
        config, nullptr,
        [&](const std::string&) {
            ++reads;
            if (content.empty()) {
                throw cmsync::Error("cannot read /tok: No such file or directory");
            }
            return content;
        },
        [&] { return now; });
    CHECK(creds.authorization() == "Bearer one");
    content = "two";  // rotated by the kubelet
    now += std::chrono::seconds(59);
    CHECK(creds.authorization() == "Bearer one");
    CHECK(reads == 1);
    now += std::chrono::seconds(1);
    CHECK(creds.authorization() == "Bearer two");
    content = "three";
    CHECK(creds.invalidate());  // a 401: read at once, and the token changed
    CHECK(creds.authorization() == "Bearer three");
    CHECK_FALSE(creds.invalidate());  // the same token again: asking again would not help
    content.clear();                  // the file is gone for a moment: the last token stays
    now += std::chrono::minutes(2);
    CHECK(creds.authorization() == "Bearer three");
    RestConfig basic;
    basic.server = "https://s";
    basic.username = "u";
    basic.password = "p";
    Credentials b(basic, nullptr, nullptr, nullptr);
    CHECK(b.authorization() == "Basic dTpw");
}

TEST_CASE("credentials: none over plain http, as kubectl, with one warning") {
    RestConfig config;
    config.server = "http://s:8080";
    int runs = 0;
    std::vector<std::string> warnings;
    const auto check_none = [&] {
        Credentials creds(
            config,
            [&](const ExecConfig&, const std::string&) {
                ++runs;
                return std::string(R"({"status":{"token":"t"}})");
            },
            [](const std::string&) { return std::string("from-file"); }, nullptr,
            [&](const std::string& w) { warnings.push_back(w); });
        CHECK(creds.authorization().empty());
        CHECK(creds.authorization().empty());
        CHECK_FALSE(creds.exec_client_certificate());
        CHECK(runs == 0);
        CHECK(warnings ==
              std::vector<std::string>{"http://s:8080 is not https: no credentials are sent to it "
                                       "(as kubectl)"});
    };
    SUBCASE("token") {
        config.token = "t";
        check_none();
    }
    SUBCASE("token file") {
        config.token_file = "/tok";
        check_none();
    }
    SUBCASE("exec plugin") {
        config.exec = ExecConfig{};
        check_none();
    }
    SUBCASE("basic auth") {
        config.username = "u";
        config.password = "p";
        check_none();
    }
    SUBCASE("no credentials: nothing to say") {
        Credentials creds(config, nullptr, nullptr, nullptr,
                          [&](const std::string& w) { warnings.push_back(w); });
        CHECK(creds.authorization().empty());
        CHECK(warnings.empty());
    }
}

TEST_CASE("pager: a server paging without end is stopped") {
    Pager pager(500);
    SUBCASE("the same token again") {
        CHECK(pager.on_page("a", 500));
        CHECK_THROWS_WITH_AS(pager.on_page("a", 500),
                             "the server keeps paging: continue token repeated after 2 pages",
                             cmsync::Error);
    }
    SUBCASE("an earlier token again") {
        CHECK(pager.on_page("a"));
        CHECK(pager.on_page("b"));
        CHECK_THROWS_AS(pager.on_page("a"), cmsync::Error);
    }
    SUBCASE("far more objects than the first page announced") {
        CHECK(pager.on_page("t0", 500, 500));  // 1000 announced
        int page = 1;
        CHECK_THROWS_WITH_AS(
            [&] {
                for (;; ++page) {
                    pager.on_page("t" + std::to_string(page), 500);
                }
            }(),
            "the server keeps paging: 3000 objects so far, 1000 announced", cmsync::Error);
        CHECK(page == 5);
    }
    SUBCASE("fresh tokens, empty pages, nothing announced") {
        int page = 0;
        CHECK_THROWS_WITH_AS(
            [&] {
                for (;; ++page) {
                    pager.on_page("t" + std::to_string(page));
                }
            }(),
            "the server keeps paging: more than 10000 pages", cmsync::Error);
        CHECK(page == kMaxPages);
    }
    SUBCASE("a restart forgets the tokens seen") {
        CHECK(pager.on_page("a"));
        CHECK(pager.on_expired());
        CHECK(pager.on_page("a"));
    }
}

TEST_CASE("kinds: only the codec and the API path differ") {
    SUBCASE("names a user may give") {
        for (const char* word : {"configmap", "configmaps", "cm", "ConfigMap"}) {
            CHECK(kind_named(word) == kConfigMap);
        }
        for (const char* word : {"secret", "secrets", "Secret"}) {
            CHECK(kind_named(word) == kSecret);
        }
        CHECK_FALSE(kind_named("pod"));
        CHECK_FALSE(kind_named(""));
    }
    SUBCASE("paths") {
        CHECK(objects_path(kConfigMap, "a") == "/api/v1/namespaces/a/configmaps");
        CHECK(objects_path(kConfigMap, "") == "/api/v1/configmaps");
        CHECK(objects_path(kSecret, "a") == "/api/v1/namespaces/a/secrets");
        CHECK(objects_path(kSecret, "") == "/api/v1/secrets");
    }
    SUBCASE("sensitive values") {
        CHECK_FALSE(kConfigMap.sensitive);
        CHECK(kSecret.sensitive);
    }
}

TEST_CASE("secret JSON: every value base64 in data, its type kept, stringData never sent") {
    const std::string json =
        R"({"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls","metadata":{"name":"tls","namespace":"n","resourceVersion":"7","finalizers":["keep/me"]},"data":{"tls.crt":"Y2VydA==","tls.key":"AAE="},"stringData":{"x":"y"}})";
    auto secret = object_from_json(kSecret, json, true);
    CHECK(secret.kind == kSecret);
    CHECK(secret.type == "kubernetes.io/tls");
    CHECK(secret.data.at("tls.crt").bytes == "cert");
    CHECK(secret.data.at("tls.key").bytes == std::string("\0\1", 2));
    CHECK(secret.raw.find("Y2VydA==") == std::string::npos);
    CHECK(secret.raw.find("stringData") == std::string::npos);
    const auto out = object_to_json(secret);
    rapidjson::Document doc;
    REQUIRE(parse_json_object(out, doc).empty());
    CHECK(std::string(doc["kind"].GetString()) == "Secret");
    CHECK(std::string(doc["type"].GetString()) == "kubernetes.io/tls");
    CHECK(std::string(doc["data"]["tls.crt"].GetString()) == "Y2VydA==");
    CHECK(std::string(doc["data"]["tls.key"].GetString()) == "AAE=");
    CHECK_FALSE(doc.HasMember("binaryData"));
    CHECK_FALSE(doc.HasMember("stringData"));
    CHECK(out.find("keep/me") != std::string::npos);
    const auto back = object_from_json(kSecret, out, false);
    CHECK(back.data == secret.data);
    REQUIRE(parse_json_object(R"({"data":{"k":"not base64!"}})", doc).empty());
    CHECK_THROWS_WITH_AS(object_from_value(kSecret, doc, false),
                         "Secret /: data key \"k\" is not base64", cmsync::Error);
}

TEST_CASE("a Secret's keys set by cmsync come from managedFields; a ConfigMap reads none") {
    const std::string meta =
        R"("metadata":{"name":"s","namespace":"n","resourceVersion":"7","managedFields":[)"
        R"({"manager":"kubectl-cmsync","operation":"Update","fieldsType":"FieldsV1",)"
        R"("fieldsV1":{"f:data":{"f:ca.crt":{},"f:tls.crt":{}},"f:metadata":{"f:labels":{}}}},)"
        R"({"manager":"kubectl-edit","operation":"Update","fieldsV1":{"f:data":{"f:tls.key":{}}}},)"
        R"({"manager":"kubectl-cmsync","operation":"Update","subresource":"","fieldsV1":{"f:data":{".":{},"f:extra":{}}}},)"
        R"({"manager":"kubectl-cmsync","fieldsV1":{"f:data":"not an object"}},"not an entry"]})";
    const std::string json =
        "{" + meta + R"(,"data":{"ca.crt":"YQ==","tls.crt":"Yg==","tls.key":"Yw=="}})";
    auto secret = object_from_json(kSecret, json, true);
    CHECK(secret.owned_keys == std::vector<std::string>{"ca.crt", "extra", "tls.crt"});
    // kept in raw, so a copy parsed again from it (the watcher's cache) still knows them ...
    CHECK(object_from_json(kSecret, secret.raw, true).owned_keys == secret.owned_keys);
    // ... and never sent back
    CHECK(object_to_json(secret).find("managedFields") == std::string::npos);
    const auto cm = object_from_json(kConfigMap, json, true);
    CHECK(cm.owned_keys.empty());
    CHECK(cm.raw.find("managedFields") == std::string::npos);
}

TEST_CASE("a configmap keeps the kind it is written as") {
    Object cm;
    cm.name = "a";
    cm.namespace_name = "n";
    cm.data["k"] = Value{"v", false};
    rapidjson::Document doc;
    REQUIRE(parse_json_object(object_to_json(cm), doc).empty());
    CHECK(std::string(doc["kind"].GetString()) == "ConfigMap");
    CHECK(std::string(doc["data"]["k"].GetString()) == "v");
    CHECK_FALSE(doc.HasMember("type"));
}
