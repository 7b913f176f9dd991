// resync against a fake API server (fake_api.hpp): the copies it finds, the sources it reads,
// what it writes and how it counts.
#include "sync/resync.hpp"

#include <doctest/doctest.h>

#include "api_fixture.hpp"
#include "doctest_strings.hpp"
#include "fake_api.hpp"

using namespace cmsync;

namespace {

using Lines = std::vector<std::string>;
using Strings = std::map<std::string, std::string>;

const std::string kManaged = "labelSelector=cmsync.io%2Fmanaged%3Dtrue";

std::string list_line(const std::string& ns, const std::string& query) {
    return "GET /api/v1/" + (ns.empty() ? "" : "namespaces/" + ns + "/") + "configmaps?" + query;
}

std::string get_line(const std::string& ns, const std::string& name) {
    return "GET /api/v1/namespaces/" + ns + "/configmaps/" + name;
}

std::string put_line(const std::string& ns, const std::string& name,
                     const std::string& extra = "") {
    return "PUT /api/v1/namespaces/" + ns + "/configmaps/" + name + "?fieldManager=kubectl-cmsync" +
           extra;
}

ResyncRequest request_for(std::vector<std::string> namespaces, int concurrency = 1,
                          int chunk_size = 500) {
    ResyncRequest r;
    r.namespaces = std::move(namespaces);
    r.concurrency = concurrency;
    r.chunk_size = chunk_size;
    return r;
}

// The source every test has: src/app with k=new and x=1.
void add_source(FakeApi& fake) {
    fake.add("configmaps", configmap_json("src", "app", {{"k", "new"}, {"x", "1"}}));
}

}  // namespace

TEST_CASE("resync: what becomes of one copy") {
    struct Row {
        const char* name;
        std::string copy;  ///< a ConfigMap in namespace t
        bool prune = false;
        bool force = false;
        DryRunMode dry_run = DryRunMode::none;
        ResyncKind kind = ResyncKind::in_step;
        std::string error = {};
        Lines requests = {};  ///< after the list
        /// The copy's data afterwards (nothing: deleted); its managed label and sync-from
        /// annotation are there exactly when `marked`.
        std::optional<Strings> data;
        bool marked = true;
        std::function<void(FakeApi&)> setup = {};
    };
    const Strings outdated{{"k", "old"}, {"own", "mine"}};
    const std::vector<Row> rows = {
        {.name = "in step on its recorded keys: the source's other keys are not added",
         .copy = copy_json("t", "app", "src/app", {{"k", "new"}}, {{"k", "new"}}),
         .kind = ResyncKind::in_step,
         .requests = {get_line("src", "app")},
         .data = Strings{{"k", "new"}}},
        {.name = "outdated: updated, its own key kept",
         .copy = copy_json("t", "app", "src/app", outdated, {{"k", "old"}}),
         .kind = ResyncKind::updated,
         .requests = {get_line("src", "app"), put_line("t", "app")},
         .data = Strings{{"k", "new"}, {"own", "mine"}}},
        {.name = "outdated, a 409 on the write: read again and planned on the recorded keys",
         .copy = copy_json("t", "app", "src/app", outdated, {{"k", "old"}}),
         .kind = ResyncKind::updated,
         .requests = {get_line("src", "app"), put_line("t", "app"), get_line("t", "app"),
                      put_line("t", "app")},
         .data = Strings{{"k", "new"}, {"own", "mine"}},
         .setup =
             [](FakeApi& fake) {
                 fake.script(put_line("t", "app"), status(409, "Conflict", "modified"));
             }},
        {.name = "--dry-run=client: counted as updated, nothing sent",
         .copy = copy_json("t", "app", "src/app", outdated, {{"k", "old"}}),
         .dry_run = DryRunMode::client,
         .kind = ResyncKind::updated,
         .requests = {get_line("src", "app")},
         .data = outdated},
        {.name = "--dry-run=server: sent with dryRun=All, nothing stored",
         .copy = copy_json("t", "app", "src/app", outdated, {{"k", "old"}}),
         .dry_run = DryRunMode::server,
         .kind = ResyncKind::updated,
         .requests = {get_line("src", "app"), put_line("t", "app", "&dryRun=All")},
         .data = outdated},
        {.name = "edited by hand: conflict, left alone",
         .copy = copy_json("t", "app", "src/app", {{"k", "edited"}}, {{"k", "old"}}),
         .kind = ResyncKind::conflict,
         .requests = {get_line("src", "app")},
         .data = Strings{{"k", "edited"}}},
        {.name = "edited by hand, --force: updated",
         .copy = copy_json("t", "app", "src/app", {{"k", "edited"}}, {{"k", "old"}}),
         .force = true,
         .kind = ResyncKind::updated,
         .requests = {get_line("src", "app"), put_line("t", "app")},
         .data = Strings{{"k", "new"}}},
        {.name = "source gone: orphaned, left alone",
         .copy = copy_json("t", "gone", "src/gone", {{"k", "v"}}, {{"k", "v"}}),
         .kind = ResyncKind::orphaned,
         .requests = {get_line("src", "gone")},
         .data = Strings{{"k", "v"}}},
        {.name = "source gone, --prune, only managed keys: the copy is deleted",
         .copy = copy_json("t", "gone", "src/gone", {{"k", "v"}}, {{"k", "v"}}),
         .prune = true,
         .kind = ResyncKind::orphaned,
         .requests = {get_line("src", "gone"), "DELETE /api/v1/namespaces/t/configmaps/gone"},
         .data = std::nullopt},
        {.name = "source gone, --prune, --dry-run=client: nothing sent",
         .copy = copy_json("t", "gone", "src/gone", {{"k", "v"}}, {{"k", "v"}}),
         .prune = true,
         .dry_run = DryRunMode::client,
         .kind = ResyncKind::orphaned,
         .requests = {get_line("src", "gone")},
         .data = Strings{{"k", "v"}}},
        {.name = "source gone, --prune, an own key: managed keys and marks removed",
         .copy = copy_json("t", "gone", "src/gone", {{"k", "v"}, {"own", "mine"}}, {{"k", "v"}}),
         .prune = true,
         .kind = ResyncKind::orphaned,
         .requests = {get_line("src", "gone"), put_line("t", "gone")},
         .data = Strings{{"own", "mine"}},
         .marked = false},
        {.name = "sync-from not NAMESPACE/NAME: error, no source read",
         .copy = configmap_json("t", "app", {{"k", "v"}}, {{"cmsync.io/managed", "true"}},
                                {{"cmsync.io/sync-from", "nonsense"}}),
         .kind = ResyncKind::error,
         .error = "annotation cmsync.io/sync-from is missing or not NAMESPACE/NAME",
         .requests = {},
         .data = Strings{{"k", "v"}}},
        {.name = "last-synced not an object of hashes: error",
         .copy =
             configmap_json("t", "app", {{"k", "v"}}, {{"cmsync.io/managed", "true"}},
                            {{"cmsync.io/sync-from", "src/app"}, {"cmsync.io/last-synced", "[]"}}),
         .kind = ResyncKind::error,
         .error = "annotation cmsync.io/last-synced is missing or not a JSON object of hashes",
         .requests = {get_line("src", "app")},
         .data = Strings{{"k", "v"}}},
        {.name = "source in another cluster (issue 30): error, its namesake here not read",
         .copy = configmap_json("t", "app", {{"k", "old"}}, {{"cmsync.io/managed", "true"}},
                                {{"cmsync.io/sync-from", "src/app"},
                                 {"cmsync.io/sync-from-cluster", "hub"},
                                 {"cmsync.io/last-synced", "{}"}}),
         .kind = ResyncKind::error,
         .error = "source is in cluster \"hub\": resync reads sources in this cluster only (sync "
                  "it with --source-context)",
         .requests = {},
         .data = Strings{{"k", "old"}}},
        {.name = "source read forbidden: error naming the read",
         .copy = copy_json("t", "locked", "src/locked", {{"k", "v"}}, {{"k", "v"}}),
         .prune = true,
         .force = true,
         .kind = ResyncKind::error,
         .error = "get configmaps \"locked\" in namespace \"src\": forbidden (check RBAC): no",
         .requests = {get_line("src", "locked")},
         .data = Strings{{"k", "v"}},
         .setup =
             [](FakeApi& fake) {
                 fake.fail("GET", "/api/v1/namespaces/src/configmaps/locked",
                           status(403, "Forbidden", "no"));
             }},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            ApiFixture<FakeApi> f;
            add_source(f.server);
            f.server.add("configmaps", row.copy);
            f.server.add("configmaps", configmap_json("t", "unmanaged", {{"k", "v"}}));
            if (row.setup) {
                row.setup(f.server);
            }
            auto request = request_for({"t"});
            request.prune = row.prune;
            request.force = row.force;
            request.dry_run = row.dry_run;
            std::vector<ResyncOutcome> seen;
            const auto summary =
                resync(f.api, request, [&](const ResyncOutcome& o) { seen.push_back(o); });
            REQUIRE(seen.size() == 1);
            const auto name = seen[0].target.target.name;
            CHECK(seen[0].target.target.namespace_name == "t");
            CHECK(seen[0].kind == row.kind);
            CHECK(seen[0].target.error == row.error);
            CHECK(summary.count(row.kind) == 1);
            CHECK(summary.total() == 1);
            CHECK(summary.namespace_errors.empty());
            CHECK(summary.list_restarts == 0);
            Lines requests{list_line("t", "limit=500&" + kManaged)};
            requests.insert(requests.end(), row.requests.begin(), row.requests.end());
            CHECK(f.server.lines() == requests);
            CHECK(f.server.unexpected().empty());
            const auto stored = f.server.stored("configmaps", "t", name);
            REQUIRE(stored.has_value() == row.data.has_value());
            if (stored) {
                CHECK(stored->data == *row.data);
                CHECK(stored->labels.count("cmsync.io/managed") == (row.marked ? 1 : 0));
                CHECK(stored->annotations.count("cmsync.io/sync-from") == (row.marked ? 1 : 0));
            }
        }
    }
}

namespace {

// Copies across t1..t3 (listed as -A in key order: t1/app, t1/bad, t2/app, t3/app, t3/gone):
// one of each kind.
void add_copies(FakeApi& fake) {
    add_source(fake);
    fake.add("configmaps", copy_json("t1", "app", "src/app", {{"k", "new"}}, {{"k", "new"}}));
    fake.add("configmaps",
             configmap_json("t1", "bad", {{"k", "v"}}, {{"cmsync.io/managed", "true"}},
                            {{"cmsync.io/sync-from", "nonsense"}}));
    fake.add("configmaps", configmap_json("t1", "unmanaged", {{"k", "v"}}));
    fake.add("configmaps", copy_json("t2", "app", "src/app", {{"k", "old"}}, {{"k", "old"}}));
    fake.add("configmaps", copy_json("t3", "app", "src/app", {{"k", "edited"}}, {{"k", "old"}}));
    fake.add("configmaps", copy_json("t3", "gone", "src/gone", {{"k", "v"}}, {{"k", "v"}}));
}

std::map<ResyncKind, int> one_of_each() {
    return {{ResyncKind::in_step, 1},
            {ResyncKind::updated, 1},
            {ResyncKind::conflict, 1},
            {ResyncKind::orphaned, 1},
            {ResyncKind::error, 1}};
}

}  // namespace

TEST_CASE("resync -A: paged, each source read once, every kind counted, after_page per page") {
    ApiFixture<FakeApi> f;
    add_copies(f.server);
    auto request = request_for({}, 1, 2);
    int handled = 0;
    std::vector<int> handled_at_page_end;
    request.after_page = [&] { handled_at_page_end.push_back(handled); };
    const auto summary = resync(f.api, request, [&](const ResyncOutcome&) { ++handled; });
    CHECK(summary.counts == one_of_each());
    CHECK(summary.total() == 5);
    CHECK(summary.list_restarts == 0);
    CHECK(summary.namespace_errors.empty());
    CHECK(handled_at_page_end == std::vector<int>{2, 4, 5});  // after each page is handled
    CHECK(f.server.lines() == Lines{list_line("", "limit=2&" + kManaged), get_line("src", "app"),
                                    list_line("", "limit=2&continue=p2&" + kManaged),
                                    put_line("t2", "app"),  // src/app is not read again
                                    list_line("", "limit=2&continue=p4&" + kManaged),
                                    get_line("src", "gone")});
    CHECK(f.server.unexpected().empty());
    CHECK(f.server.stored("configmaps", "t2", "app")->data == Strings{{"k", "new"}});
}

TEST_CASE("resync: an expired continue token restarts the list; counts start over") {
    ApiFixture<FakeApi> f;
    add_copies(f.server);
    auto request = request_for({}, 1, 2);
    int pages = 0;
    request.after_page = [&] {
        if (++pages == 1) {
            f.server.expire("p2");
        }
    };
    int handled = 0;
    const auto summary = resync(f.api, request, [&](const ResyncOutcome&) { ++handled; });
    CHECK(summary.list_restarts == 1);
    CHECK(summary.counts == one_of_each());  // the first page is counted once
    CHECK(handled == 7);                     // but reported twice
    CHECK(pages == 4);
    CHECK(f.server.lines() ==
          Lines{list_line("", "limit=2&" + kManaged), get_line("src", "app"),
                list_line("", "limit=2&continue=p2&" + kManaged),  // 410
                list_line("", "limit=2&" + kManaged),
                list_line("", "limit=2&continue=p2&" + kManaged), put_line("t2", "app"),
                list_line("", "limit=2&continue=p4&" + kManaged), get_line("src", "gone")});
    CHECK(f.server.unexpected().empty());
}

TEST_CASE("resync of namespaces: one that cannot be listed is recorded, the others are done") {
    ApiFixture<FakeApi> f;
    add_copies(f.server);
    f.server.fail("GET", "/api/v1/namespaces/locked/configmaps", status(403, "Forbidden", "no"));
    const auto summary =
        resync(f.api, request_for({"t1", "locked", "t2"}), [](const ResyncOutcome&) {});
    CHECK(summary.namespace_errors ==
          Lines{"list configmaps in namespace \"locked\": forbidden (check RBAC): no"});
    CHECK(summary.counts == std::map<ResyncKind, int>{{ResyncKind::in_step, 1},
                                                      {ResyncKind::updated, 1},
                                                      {ResyncKind::error, 1}});
    CHECK(f.server.lines() ==
          Lines{list_line("t1", "limit=500&" + kManaged), get_line("src", "app"),
                list_line("locked", "limit=500&" + kManaged),
                list_line("t2", "limit=500&" + kManaged), put_line("t2", "app")});
}

TEST_CASE("resync: many copies of one source, concurrently: the source is read once") {
    ApiFixture<FakeApi> f;
    add_source(f.server);
    Lines expected{list_line("", "limit=500&" + kManaged), get_line("src", "app")};
    for (int i = 0; i < 20; ++i) {
        const auto ns = "t" + std::to_string(i);
        const bool outdated = i % 2 == 0;
        f.server.add("configmaps",
                     copy_json(ns, "app", "src/app", {{"k", outdated ? "old" : "new"}},
                               {{"k", outdated ? "old" : "new"}}));
        if (outdated) {
            expected.push_back(put_line(ns, "app"));
        }
    }
    std::sort(expected.begin(), expected.end());
    const auto summary = resync(f.api, request_for({}, 8), [](const ResyncOutcome&) {});
    CHECK(summary.counts ==
          std::map<ResyncKind, int>{{ResyncKind::in_step, 10}, {ResyncKind::updated, 10}});
    CHECK(f.server.sorted_lines() == expected);
    CHECK(f.server.unexpected().empty());
}
