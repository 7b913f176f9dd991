// The metrics registry and its text exposition format (0.0.4).
#include "controller/metrics.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "controller/controller_metrics.hpp"
#include "controller/metrics_text.hpp"
#include "error.hpp"

using namespace cmsync;
using namespace cmsync::controller;

TEST_CASE("sample values: shortest decimal, Inf and NaN as Prometheus spells them") {
    const struct {
        double value;
        const char* text;
    } rows[] = {{0, "0"},
                {1, "1"},
                {0.005, "0.005"},
                {2.5, "2.5"},
                {1e6, "1000000"},
                {-3, "-3"},
                {1.5e-7, "1.5e-07"},
                {INFINITY, "+Inf"},
                {-INFINITY, "-Inf"},
                {NAN, "NaN"},
                {1764405600, "1764405600"}};
    for (const auto& row : rows) {
        SUBCASE(row.text) {
            CHECK(format_sample_value(row.value) == row.text);
        }
    }
}

TEST_CASE("label values escape backslash, double quote and newline; HELP keeps quotes") {
    const struct {
        const char* in;
        const char* label;
        const char* help;
    } rows[] = {{"plain", "plain", "plain"},
                {"a\\b", "a\\\\b", "a\\\\b"},
                {"say \"hi\"", "say \\\"hi\\\"", "say \"hi\""},
                {"two\nlines", "two\\nlines", "two\\nlines"},
                {"tab\there", "tab\there", "tab\there"}};
    for (const auto& row : rows) {
        SUBCASE(row.in) {
            CHECK(escape_label_value(row.in) == row.label);
            CHECK(escape_help(row.in) == row.help);
        }
    }
}

TEST_CASE("metric and label names") {
    CHECK(valid_metric_name("cmsync_writes_total"));
    CHECK(valid_metric_name("a:b"));
    CHECK_FALSE(valid_metric_name("1abc"));
    CHECK_FALSE(valid_metric_name("a-b"));
    CHECK_FALSE(valid_metric_name(""));
    CHECK(valid_label_name("verb"));
    CHECK_FALSE(valid_label_name("a:b"));
    CHECK_FALSE(valid_label_name("__name__"));
}

TEST_CASE("render: families by name, series by label values, HELP and TYPE once") {
    Registry r;
    auto& writes = r.counter("cmsync_writes_total", "Writes.", {"verb", "result"});
    auto& gauge = r.gauge("cmsync_copies_managed", "Copies.");
    r.gauge("cmsync_unused", "Never set.", {"rule"});  // no series: not shown
    writes.with({"update", "success"}).inc(2);
    writes.with({"create", "error"}).inc();
    writes.with({"create", "error"}).inc(-5);  // ignored: counters only go up
    gauge.with({}).set(7);
    gauge.with({}).add(-2);
    CHECK(r.render() ==
          "# HELP cmsync_copies_managed Copies.\n"
          "# TYPE cmsync_copies_managed gauge\n"
          "cmsync_copies_managed 5\n"
          "# HELP cmsync_writes_total Writes.\n"
          "# TYPE cmsync_writes_total counter\n"
          "cmsync_writes_total{verb=\"create\",result=\"error\"} 1\n"
          "cmsync_writes_total{verb=\"update\",result=\"success\"} 2\n");
}

TEST_CASE("histogram: cumulative buckets up to +Inf, _sum and _count, le last") {
    Registry r;
    auto& h = r.histogram("req_seconds", "Latency.", {"verb"}, {0.1, 1});
    const struct {
        double value;
        const char* name;
    } rows[] = {{0.05, "below the first bound"},
                {0.1, "on a bound (le is inclusive)"},
                {0.5, "between bounds"},
                {3, "above every bound"}};
    for (const auto& row : rows) {
        h.with({"GET"}).observe(row.value);
    }
    const auto snap = h.with({"GET"}).snapshot();
    CHECK(snap.cumulative == std::vector<std::uint64_t>{2, 3, 4});
    CHECK(snap.count == 4);
    CHECK(snap.sum == doctest::Approx(3.65));
    CHECK(r.render() ==
          "# HELP req_seconds Latency.\n"
          "# TYPE req_seconds histogram\n"
          "req_seconds_bucket{verb=\"GET\",le=\"0.1\"} 2\n"
          "req_seconds_bucket{verb=\"GET\",le=\"1\"} 3\n"
          "req_seconds_bucket{verb=\"GET\",le=\"+Inf\"} 4\n"
          "req_seconds_sum{verb=\"GET\"} 3.65\n"
          "req_seconds_count{verb=\"GET\"} 4\n");
}

TEST_CASE("registration errors") {
    Registry r;
    r.counter("a_total", "A.");
    SUBCASE("twice") {
        CHECK_THROWS_WITH_AS(r.gauge("a_total", "again"), "metric a_total is registered twice",
                             Error);
    }
    SUBCASE("bad name") {
        CHECK_THROWS_WITH_AS(r.counter("a-b", "x"), "invalid metric name \"a-b\"", Error);
    }
    SUBCASE("bad label") {
        CHECK_THROWS_WITH_AS(r.counter("b_total", "x", {"x-y"}),
                             "metric b_total: invalid label name \"x-y\"", Error);
    }
    SUBCASE("le on a histogram") {
        CHECK_THROWS_WITH_AS(r.histogram("h", "x", {"le"}),
                             "metric h: \"le\" is the histogram's own label", Error);
    }
    SUBCASE("unordered bounds") {
        CHECK_THROWS_WITH_AS(r.histogram("h", "x", {}, {1, 0.5}),
                             "metric h: bucket bounds must be finite and increasing", Error);
    }
    SUBCASE("wrong number of label values") {
        auto& f = r.counter("c_total", "x", {"verb"});
        CHECK_THROWS_WITH_AS(f.with({}), "metric c_total: 0 label values for 1 label names", Error);
    }
}

TEST_CASE("counters add up across threads") {
    Registry r;
    auto& c = r.counter("c_total", "x", {"t"});
    auto& h = r.histogram("h_seconds", "x", {});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                c.with({"x"}).inc();
                h.with({}).observe(0.01);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(c.with({"x"}).value() == 40000);
    CHECK(h.with({}).snapshot().count == 40000);
}

TEST_CASE("ControllerMetrics: known label values start at 0; api latency labels") {
    Registry r;
    ControllerMetrics m(r, "0.1.0");
    m.observe_api_request("GET", 200, 0.02);
    m.observe_api_request("PUT", 0, 1.5);
    m.set_leader("kube-system/cmsync", true);
    const auto text = r.render();
    CHECK(text.find("cmsync_writes_total{verb=\"delete\",result=\"conflict\"} 0\n") !=
          std::string::npos);
    CHECK(text.find("cmsync_events_total{result=\"dropped\"} 0\n") != std::string::npos);
    CHECK(text.find("cmsync_build_info{version=\"0.1.0\"} 1\n") != std::string::npos);
    CHECK(text.find("cmsync_api_request_duration_seconds_bucket{verb=\"GET\",code=\"200\","
                    "le=\"0.025\"} 1\n") != std::string::npos);
    CHECK(
        text.find("cmsync_api_request_duration_seconds_count{verb=\"PUT\",code=\"<error>\"} 1\n") !=
        std::string::npos);
    CHECK(text.find("cmsync_leader_is_leader{lease=\"kube-system/cmsync\"} 1\n") !=
          std::string::npos);
}

TEST_CASE("ControllerMetrics: the cluster label names another cluster; the local one has none") {
    Registry r;
    ControllerMetrics m(r, "0.1.0");
    m.count_write("update", "success", "");
    m.count_write("update", "success", "member-a");
    m.count_write("update", "success", "member-a");
    m.count_drift("member-b");
    m.set_copies_managed("member-a", 2);
    m.mark_synced("web", "member-a", 5);
    m.mark_synced("web", "", 6);
    const auto text = r.render();
    const struct {
        const char* series;
    } rows[] = {
        // a watch naming no cluster: the series as before clusters
        {"cmsync_writes_total{verb=\"update\",result=\"success\"} 1\n"},
        {"cmsync_writes_total{verb=\"update\",result=\"success\",cluster=\"member-a\"} 2\n"},
        {"cmsync_drift_total 0\n"},
        {"cmsync_drift_total{cluster=\"member-b\"} 1\n"},
        {"cmsync_conflicts_total 0\n"},
        {"cmsync_copies_managed{cluster=\"member-a\"} 2\n"},
        {"cmsync_last_sync_timestamp_seconds{rule=\"web\",cluster=\"member-a\"} 5\n"},
        {"cmsync_last_sync_timestamp_seconds{rule=\"web\"} 6\n"},
    };
    for (const auto& row : rows) {
        SUBCASE(row.series) {
            CHECK(text.find(row.series) != std::string::npos);
        }
    }
    CHECK(text.find("cluster=\"\"") == std::string::npos);
}

TEST_CASE("format_labels leaves out a label whose value is empty") {
    const struct {
        LabelPairs labels;
        const char* text;
    } rows[] = {{{}, ""},
                {{{"cluster", ""}}, ""},
                {{{"verb", "GET"}, {"cluster", ""}}, "{verb=\"GET\"}"},
                {{{"cluster", ""}, {"verb", "GET"}}, "{verb=\"GET\"}"},
                {{{"verb", "GET"}, {"cluster", "m"}}, "{verb=\"GET\",cluster=\"m\"}"}};
    for (std::size_t i = 0; i < std::size(rows); ++i) {
        SUBCASE(("row " + std::to_string(i)).c_str()) {
            CHECK(format_labels(rows[i].labels) == rows[i].text);
        }
    }
}

TEST_CASE("promtool accepts the rendered text of every kind") {
    if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
        MESSAGE("skipped: promtool is not installed (Debian package prometheus)");
        return;
    }
    Registry r;
    ControllerMetrics m(r, "0.1.0");
    m.count_write("update", "success", "");
    m.count_write("update", "success", "member-a");
    m.count_conflict("");
    m.count_drift("member-a");
    m.count_orphan("");
    m.set_copies_managed("", 12);
    m.set_copies_managed("member-a", 3);
    m.count_watch_restart("member-b");
    m.count_relist("");
    m.observe_api_request("GET", 200, 0.003);
    m.observe_api_request("PATCH", 404, 12);
    m.mark_synced("ns/name with \"quotes\" \\ and\nnewline", "", 1764405600.25);
    m.mark_synced("web", "member-a", 1764405600.25);
    m.set_leader("kube-system/cmsync", false);
    m.count_event("posted");
    const auto path = std::filesystem::temp_directory_path() /
                      ("cmsync_metrics_" + std::to_string(::getpid()) + ".prom");
    std::ofstream(path) << r.render();
    const auto command = "promtool check metrics < " + path.string() + " 2>&1";
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
        output += buffer;
    }
    const int status = ::pclose(pipe);
    std::filesystem::remove(path);
    INFO("promtool said: " << output);
    CHECK(status == 0);
    CHECK(output.empty());
}
