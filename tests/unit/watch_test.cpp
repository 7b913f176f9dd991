#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "api_fixture.hpp"
#include "canary.hpp"
#include "error.hpp"
#include "eventually.hpp"
#include "fake_api.hpp"
#include "kube/label_selector.hpp"
#include "kube/watch_decoder.hpp"
#include "kube/watch_event.hpp"
#include "plan/merge.hpp"
#include "plan/ownership.hpp"
#include "proc_status.hpp"
#include "test_inputs.hpp"
#include "util/backoff.hpp"
#include "util/parallel.hpp"
#include "util/sha256.hpp"
#include "watch/copy_cache.hpp"
#include "watch/sealed.hpp"
#include "watch/watch_state.hpp"
#include "watch/watch_streams.hpp"
#include "watch/watcher.hpp"

using namespace cmsync;
using namespace std::chrono_literals;

namespace {

/// Watches that send nothing and poll their cancel check only when woken, as a quiet stream
/// of the curl transport between its progress callbacks (up to a second apart).
class QuietWatches : public http::Transport {
  public:
    http::Response send(const http::Request&) override { return {200, {}, "{}"}; }
    http::Response stream(const http::Request&, const http::BodySink&,
                          const http::CancelCheck& cancelled) override {
        std::unique_lock lock(mutex_);
        ++open_;
        changed_.notify_all();
        changed_.wait_for(lock, 10s, [&] { return wakes_ > 0 && cancelled(); });
        --open_;
        return {200, {}, ""};
    }
    void wake_streams() override {
        std::lock_guard lock(mutex_);
        ++wakes_;
        changed_.notify_all();
    }
    /// Waits up to 5 s for `count` streams to be open.
    bool wait_open(int count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, 5s, [&] { return open_ == count; });
    }
    int wakes() {
        std::lock_guard lock(mutex_);
        return wakes_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int open_ = 0;
    int wakes_ = 0;
};

// Three events as the apiserver writes them, with braces, quotes and escapes inside strings.
const std::string kStream =
    R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"10"},"data":{"k":"}{\"\\"}}})"
    "\n"
    R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"12"}}})"
    R"x({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (12)","reason":"Expired","code":410}})x"
    "\n";

}  // namespace

TEST_CASE("watch decoder: the same three events however the stream is split") {
    for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
        CAPTURE(cut);
        kube::WatchDecoder decoder;
        auto events = decoder.feed(std::string_view(kStream).substr(0, cut));
        for (auto& e : decoder.feed(std::string_view(kStream).substr(cut))) {
            events.push_back(std::move(e));
        }
        REQUIRE(events.size() == 3);
        CHECK(decoder.pending() == 0);
        const auto added = kube::parse_watch_event(events[0], &kube::kConfigMap);
        CHECK(added.type == kube::WatchEventType::added);
        CHECK(added.resource_version == "10");
        CHECK(added.object->data.at("k").bytes == "}{\"\\");
        CHECK(kube::parse_watch_event(events[1], &kube::kConfigMap).resource_version == "12");
        const auto error = kube::parse_watch_event(events[2], &kube::kConfigMap);
        CHECK(error.type == kube::WatchEventType::error);
        CHECK(error.error_code == 410);
        CHECK(error.error_reason == "Expired");
    }
}

TEST_CASE("watch decoder: byte by byte, and split at every pair of offsets") {
    kube::WatchDecoder one;
    std::size_t count = 0;
    for (const char c : kStream) {
        count += one.feed(std::string_view(&c, 1)).size();
    }
    CHECK(count == 3);
    for (std::size_t a = 0; a < kStream.size(); a += 7) {
        for (std::size_t b = a; b <= kStream.size(); b += 5) {
            kube::WatchDecoder d;
            std::size_t n = d.feed(std::string_view(kStream).substr(0, a)).size();
            n += d.feed(std::string_view(kStream).substr(a, b - a)).size();
            n += d.feed(std::string_view(kStream).substr(b)).size();
            CHECK(n == 3);
        }
    }
}

TEST_CASE("watch events: unknown types and non-events are errors") {
    CHECK_THROWS_AS(kube::parse_watch_event(R"({"type":"WHAT","object":{}})", &kube::kConfigMap),
                    Error);
    CHECK_THROWS_AS(kube::parse_watch_event(R"({"type":"ADDED"})", &kube::kConfigMap), Error);
    const auto ns = kube::parse_watch_event(
        R"({"type":"MODIFIED","object":{"metadata":{"name":"x","resourceVersion":"3","labels":{"env":"prod"}}}})",
        nullptr);
    CHECK(ns.name == "x");
    CHECK(ns.labels.at("env") == "prod");
    CHECK_FALSE(ns.object);
}

TEST_CASE("backoff: 0.8 s doubling to 30 s, jittered, reset") {
    Backoff b;
    using ms = std::chrono::milliseconds;
    CHECK(b.next(0.0) == ms(800));
    CHECK(b.next(0.0) == ms(1600));
    CHECK(b.next(0.5) == ms(4800));
    for (int i = 0; i < 10; ++i) {
        b.next(0.0);
    }
    CHECK(b.next(0.9) == ms(30000));
    b.reset();
    CHECK(b.next(0.0) == ms(800));
}

TEST_CASE("label selectors") {
    const auto m = [](const char* sel, std::map<std::string, std::string> labels) {
        const auto s = LabelSelector::parse(sel);
        REQUIRE(s);
        return s->matches(labels);
    };
    CHECK(m("env=prod", {{"env", "prod"}}));
    CHECK_FALSE(m("env=prod", {{"env", "dev"}}));
    CHECK(m("env==prod,team", {{"env", "prod"}, {"team", "x"}}));
    CHECK_FALSE(m("env==prod,team", {{"env", "prod"}}));
    CHECK(m("env!=prod", {}));
    CHECK(m("!team", {{"env", "a"}}));
    CHECK(m("env in (a, b)", {{"env", "b"}}));
    CHECK_FALSE(m("env in (a,b)", {}));
    CHECK(m("env notin (a,b)", {{"env", "c"}}));
    CHECK(m("", {{"x", "y"}}));
    CHECK(m("cmsync.io/managed=true", {{"cmsync.io/managed", "true"}}));
    CHECK_FALSE(LabelSelector::parse("env in a"));
    CHECK_FALSE(LabelSelector::parse("=x"));
}

TEST_CASE("watch state round trip and rejection") {
    WatchState s{"namespaces", {{"ns-a", "10"}, {"*", "12"}}, {{"app", "abc"}}};
    CHECK(parse_watch_state(format_watch_state(s), "/f") == s);
    CHECK_THROWS_WITH_AS(parse_watch_state("{}", "/f"),
                         "state file /f: not a kubectl-cmsync state file (version 1)", Error);
}

TEST_CASE("orphans") {
    kube::Object copy;
    copy.namespace_name = "b";
    copy.name = "app";
    copy.resource_version = "4";
    copy.data["k"] = kube::Value{"v", false};
    copy.annotations[kSyncFromAnnotation] = "a/app";
    copy.annotations[kLastSyncedAnnotation] = format_last_synced({{"k", sha256_hex("v")}});
    copy.labels[kManagedLabel] = "true";
    SUBCASE("reported, not touched, without --prune") {
        const auto p = plan_orphan(copy, {"a", "app"}, false, false);
        CHECK(p.action == TargetAction::conflict);
        CHECK_FALSE(p.write);
        CHECK(p.orphaned);  // what the watcher reports as "orphaned", not "drift"
        CHECK(p.message.rfind("orphaned", 0) == 0);
    }
    SUBCASE("--prune deletes a copy left empty") {
        const auto p = plan_orphan(copy, {"a", "app"}, true, false);
        CHECK(p.write);
        CHECK(p.delete_copy);
        CHECK(p.target_resource_version == "4");
    }
    SUBCASE("--prune keeps the copy's own keys and drops ownership") {
        copy.data["own"] = kube::Value{"1", false};
        const auto p = plan_orphan(copy, {"a", "app"}, true, false);
        CHECK_FALSE(p.delete_copy);
        CHECK(p.desired->data.count("k") == 0);
        CHECK(p.desired->data.at("own").bytes == "1");
        CHECK(p.desired->labels.count(kManagedLabel) == 0);
    }
    SUBCASE("an edited managed key is a conflict unless --force") {
        copy.data["k"] = kube::Value{"edited", false};
        const auto p = plan_orphan(copy, {"a", "app"}, true, false);
        CHECK(p.action == TargetAction::conflict);
        CHECK(p.orphaned);
        CHECK(p.hand_edited);
        CHECK(plan_orphan(copy, {"a", "app"}, true, true).delete_copy);
    }
    SUBCASE("a copy of another source is left alone") {
        const auto p = plan_orphan(copy, {"x", "app"}, true, true);
        CHECK(p.action == TargetAction::unchanged);
        CHECK_FALSE(p.orphaned);
        CHECK_FALSE(p.write);
    }
}

namespace {

kube::Object copy_of(const std::string& ns, const std::string& name, const std::string& from,
                     const std::string& rv) {
    kube::Object cm;
    cm.namespace_name = ns;
    cm.name = name;
    cm.resource_version = rv;
    if (!from.empty()) {
        cm.annotations[kSyncFromAnnotation] = from;
    }
    return cm;
}

}  // namespace

TEST_CASE("copy cache: keeps copies of our sources only, forgets by namespace and name") {
    CopyCache cache("src");
    cache.from_list("b", "app", copy_of("b", "app", "src/app", "1"));
    cache.from_watch("b", "db", copy_of("b", "db", "src/db", "2"));
    cache.learned("c", "app", copy_of("c", "app", "src/app", "3"));
    cache.from_list("bb", "app", copy_of("bb", "app", "src/app", "4"));
    CHECK(cache.find("b", "app")->resource_version == "1");
    CHECK(cache.find("b", "db")->resource_version == "2");
    CHECK(cache.find("bb", "app")->resource_version == "4");
    CHECK(cache.find("c", "app")->resource_version == "3");
    CHECK_FALSE(cache.find("b", "other"));

    SUBCASE("not ours (any more): nothing to plan from, so it is read before a write") {
        cache.from_watch("b", "app", copy_of("b", "app", "", "5"));          // annotation removed
        cache.learned("c", "app", copy_of("c", "app", "other/app", "6"));    // taken over
        cache.from_list("d", "app", copy_of("d", "app", "src/other", "7"));  // another name's
        CHECK_FALSE(cache.find("b", "app"));
        CHECK_FALSE(cache.find("c", "app"));
        CHECK_FALSE(cache.find("d", "app"));
        CHECK(cache.find("b", "db"));
        CHECK(cache.find("bb", "app"));
    }
    SUBCASE("deleted") {
        cache.from_watch("b", "app", std::nullopt);
        CHECK_FALSE(cache.find("b", "app"));
    }
    SUBCASE("forget a namespace, not its prefix neighbours") {
        cache.forget_namespace("b");
        CHECK_FALSE(cache.find("b", "app"));
        CHECK_FALSE(cache.find("b", "db"));
        CHECK(cache.find("bb", "app"));
        CHECK(cache.find("c", "app"));
    }
    SUBCASE("forget a source name everywhere") {
        cache.forget_name("app");
        CHECK_FALSE(cache.find("b", "app"));
        CHECK_FALSE(cache.find("c", "app"));
        CHECK_FALSE(cache.find("bb", "app"));
        CHECK(cache.find("b", "db"));
    }
    SUBCASE("counted within the targets and sources held") {
        CHECK(cache.copies() == 4);
        CHECK(cache.copies_in({"b", "bb", "c"}, {"app", "db"}) == 4);
        CHECK(cache.copies_in({"b", "c"}, {"app", "db"}) == 3);  // bb no longer a target
        CHECK(cache.copies_in({"b", "bb", "c"}, {"app"}) == 3);  // db gone
        CHECK(cache.copies_in({"b"}, {"app"}) == 1);
        CHECK(cache.copies_in({}, {"app", "db"}) == 0);
    }
}

TEST_CASE("copy cache: events older than a learned state are stale until the watch catches up") {
    CopyCache cache("src");
    cache.from_list("b", "app", copy_of("b", "app", "src/app", "10"));

    SUBCASE("own write answered 12; the event of someone's write 11 comes after it") {
        cache.learned("b", "app", copy_of("b", "app", "src/app", "12"));
        CHECK_FALSE(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "11")));
        CHECK(cache.find("b", "app")->resource_version == "12");
        CHECK(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "12")));
        CHECK(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "13")));
        CHECK(cache.find("b", "app")->resource_version == "13");
    }
    SUBCASE("a write the server found to change nothing answers with the state seen") {
        cache.learned("b", "app", copy_of("b", "app", "src/app", "10"));
        CHECK(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "14")));
    }
    SUBCASE("own delete: older events are stale until the delete arrives") {
        cache.learned("b", "app", std::nullopt);
        CHECK_FALSE(cache.find("b", "app"));
        CHECK_FALSE(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "11")));
        CHECK_FALSE(cache.find("b", "app"));
        CHECK(cache.from_watch("b", "app", std::nullopt));
        CHECK(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "15")));
    }
    SUBCASE("a list is the whole truth: nothing awaited any more") {
        cache.learned("b", "app", copy_of("b", "app", "src/app", "12"));
        cache.from_list("b", "app", copy_of("b", "app", "src/app", "16"));
        CHECK(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "17")));
    }
    SUBCASE("the source gone: its copies are forgotten, not what the watch delivered") {
        // Found by the soak: the source deleted, the watcher orphans the copy (a write), and an
        // event of a write before it (a sync run's) arrives after: it is stale, not the copy.
        cache.forget_name("app");
        CHECK_FALSE(cache.find("b", "app"));
        cache.learned("b", "app", copy_of("b", "app", "src/app", "12"));
        CHECK_FALSE(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "11")));
        CHECK(cache.find("b", "app")->resource_version == "12");
        CHECK(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "12")));
    }
    SUBCASE("untracked copies (the watch never reported on them) skip no event") {
        cache.learned("n", "app", copy_of("n", "app", "src/app", "20"));
        CHECK(cache.find("n", "app")->resource_version == "20");
        CHECK(cache.from_watch("n", "app", copy_of("n", "app", "src/app", "19")));
        CHECK(cache.find("n", "app")->resource_version == "19");
        cache.learned("m", "app", std::nullopt);
        CHECK(cache.from_watch("m", "app", copy_of("m", "app", "", "21")));
    }
}

TEST_CASE("watch decoder: an event that never ends is an error past 16 MiB, not unbounded memory") {
    const auto chunk = test_input("watch_endless_line.txt");
    kube::WatchDecoder decoder;
    std::size_t fed = 0;
    CHECK_THROWS_WITH_AS(
        [&] {
            while (fed <= kube::kMaxWatchEvent + chunk.size()) {
                decoder.feed(chunk);
                fed += chunk.size();
            }
        }(),
        "a watch event is larger than 16 MiB", Error);
    CHECK(decoder.pending() == kube::kMaxWatchEvent);
}

namespace {

struct TempDir {
    std::string path = [] {
        char name[] = "/tmp/cmsync-test-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        return std::string(name);
    }();
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("state file: a symlink planted beside it is never followed") {
    TempDir dir;
    const auto victim = dir.path + "/victim";
    const auto state = dir.path + "/state";
    std::ofstream(victim) << "precious";
    ::chmod(victim.c_str(), 0644);
    std::filesystem::create_symlink(victim, state + ".tmp");
    write_file_atomically(state, "new state");
    CHECK(slurp(victim) == "precious");
    struct stat st {};
    REQUIRE(::stat(victim.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
    CHECK(slurp(state) == "new state");
    REQUIRE(::lstat(state.c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path),
                        std::filesystem::directory_iterator()) == 3);  // no temporary left
}

TEST_CASE("state file: refused in a directory anyone may write to, unless sticky") {
    TempDir dir;
    const auto state = dir.path + "/state";
    SUBCASE("0777") {
        ::chmod(dir.path.c_str(), 0777);
        CHECK_THROWS_WITH_AS(write_file_atomically(state, "x"),
                             (fmt::format("state file {}: directory {} is writable by everyone "
                                          "and not sticky; choose a directory only you can "
                                          "write to",
                                          state, dir.path))
                                 .c_str(),
                             Error);
    }
    SUBCASE("1777, as /tmp") {
        ::chmod(dir.path.c_str(), 01777);
        write_file_atomically(state, "x");
        CHECK(slurp(state) == "x");
    }
}

TEST_CASE("copy cache: a copy comes back whole, its values shared with other copies") {
    CopyCache cache("src");
    const std::string server_json =
        R"({"metadata":{"name":"app","namespace":"b","resourceVersion":"7","finalizers":["keep/me"],)"
        R"("annotations":{"cmsync.io/sync-from":"src/app"},"managedFields":[{"manager":"m"}]},)"
        R"("data":{"big":")" +
        std::string(4096, 'v') + R"(","mine":"x"},"binaryData":{"b":"AAE="}})";
    const auto read = kube::object_from_json(kube::kConfigMap, server_json, true);
    for (const auto* ns : {"b", "c", "d"}) {
        auto cm = read;
        cm.namespace_name = ns;
        cache.from_list(ns, "app", cm);
    }
    for (const auto* ns : {"b", "c", "d"}) {
        CAPTURE(ns);
        const auto back = cache.find(ns, "app");
        REQUIRE(back);
        CHECK(back->data == read.data);
        CHECK(back->resource_version == "7");
        CHECK(back->annotations == read.annotations);
        CHECK(kube::object_to_json(*back).find("keep/me") != std::string::npos);
    }
    SUBCASE("values change in one copy only") {
        auto edited = read;
        edited.resource_version = "8";
        edited.data["mine"] = kube::Value{"y", false};
        cache.from_watch("b", "app", edited);
        CHECK(cache.find("b", "app")->data.at("mine").bytes == "y");
        CHECK(cache.find("c", "app")->data.at("mine").bytes == "x");
        CHECK(cache.find("c", "app")->data.at("big").bytes == std::string(4096, 'v'));
    }
    SUBCASE("many values come and go: what no copy holds is let go, the rest stays right") {
        for (int i = 0; i < 1000; ++i) {
            auto cm = read;
            cm.resource_version = std::to_string(100 + i);
            cm.data["mine"] = kube::Value{std::to_string(i), false};
            cache.from_watch("b", "app", cm);
        }
        CHECK(cache.find("b", "app")->data.at("mine").bytes == "999");
        CHECK(cache.find("d", "app")->data.at("mine").bytes == "x");
    }
}

TEST_CASE("copy cache: the echo of an own write is known without its values") {
    CopyCache cache("src");
    cache.from_list("b", "app", copy_of("b", "app", "src/app", "10"));
    auto written = copy_of("b", "app", "src/app", "12");
    written.data["k"] = kube::Value{"v", false};
    cache.learned("b", "app", written);
    CHECK(cache.holds(copy_of("b", "app", "src/app", "12")));
    CHECK_FALSE(cache.holds(copy_of("b", "app", "src/app", "11")));  // someone else's
    CHECK_FALSE(cache.holds(copy_of("c", "app", "src/app", "12")));  // another copy

    SUBCASE("delivered: the held values stay, nothing is awaited") {
        CHECK(cache.from_watch_held("b", "app", "12"));
        CHECK(cache.find("b", "app")->data.at("k").bytes == "v");
        CHECK(cache.holds(copy_of("b", "app", "src/app", "12")));  // the same version still
        CHECK(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "13")));
        CHECK_FALSE(cache.holds(copy_of("b", "app", "src/app", "12")));
    }
    SUBCASE("a newer write learned before the echo is handled: the echo is stale") {
        cache.learned("b", "app", copy_of("b", "app", "src/app", "14"));
        CHECK_FALSE(cache.from_watch_held("b", "app", "12"));
        CHECK(cache.find("b", "app")->resource_version == "14");
    }
    SUBCASE("a copy just created (untracked, nothing awaited) is known by its version") {
        auto created = copy_of("n", "app", "src/app", "30");
        created.data["k"] = kube::Value{"v", false};
        cache.learned("n", "app", created);
        CHECK(cache.holds(copy_of("n", "app", "src/app", "30")));
        CHECK_FALSE(cache.holds(copy_of("n", "app", "src/app", "29")));
        CHECK(cache.from_watch_held("n", "app", "30"));
        CHECK(cache.find("n", "app")->data.at("k").bytes == "v");
    }
    SUBCASE("an untracked copy learned anew before its echo is handled: read when needed") {
        cache.learned("n", "app", copy_of("n", "app", "src/app", "30"));
        cache.learned("n", "app", copy_of("n", "app", "src/app", "31"));
        CHECK(cache.from_watch_held("n", "app", "30"));
        CHECK_FALSE(cache.find("n", "app"));
        CHECK(cache.from_watch("n", "app", copy_of("n", "app", "src/app", "31")));
        CHECK(cache.find("n", "app"));
    }
    SUBCASE("forgotten meanwhile: tracked again, its values unknown until read") {
        cache.forget_name("app");
        CHECK(cache.from_watch_held("b", "app", "12"));
        CHECK_FALSE(cache.find("b", "app"));
        CHECK(cache.from_watch("b", "app", copy_of("b", "app", "src/app", "15")));
    }
}

TEST_CASE("event queue: compact lets go of the values of events the loop now holds") {
    EventQueue queue;
    for (const auto* rv : {"1", "2", "3"}) {
        StreamEvent e;
        e.stream = "cluster";
        e.event.type = kube::WatchEventType::modified;
        e.event.object = copy_of("b", "app", "src/app", rv);
        e.event.object->data["k"] = kube::Value{std::string(1000, 'v'), false};
        e.event.object->raw = "{}";
        queue.push(std::move(e));
    }
    StreamEvent position;  // no object: left alone
    position.stream = "cluster";
    queue.push(std::move(position));
    StreamEvent deleted;  // a delete is an absence, never held, even at a held version
    deleted.stream = "cluster";
    deleted.event.type = kube::WatchEventType::deleted;
    deleted.event.object = copy_of("b", "app", "src/app", "2");
    queue.push(std::move(deleted));
    queue.compact([](const kube::Object& cm) { return cm.resource_version == "2"; });
    const auto items = queue.pop_all(std::chrono::milliseconds(0));
    REQUIRE(items.size() == 5);
    CHECK_FALSE(items[0].known);
    CHECK(items[0].event.object->data.size() == 1);
    CHECK(items[1].known);
    CHECK(items[1].event.object->data.empty());
    CHECK(items[1].event.object->raw.empty());
    CHECK(items[1].event.object->annotations.empty());
    CHECK(items[1].event.object->namespace_name == "b");
    CHECK(items[1].event.object->name == "app");
    CHECK(items[1].event.object->resource_version == "2");
    CHECK_FALSE(items[2].known);
    CHECK_FALSE(items[3].event.object);
    CHECK_FALSE(items[4].known);
    CHECK(items[4].event.object->annotations.size() == 1);
}

TEST_CASE("parallel_for: every index once, and the caller's hook runs while it waits") {
    for (const int concurrency : {1, 4}) {
        CAPTURE(concurrency);
        std::vector<std::atomic<int>> seen(50);
        std::atomic<int> hooks{0};
        parallel_for(
            seen.size(), concurrency,
            [&](std::size_t i) {
                ++seen[i];
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            },
            [&] { ++hooks; });
        for (const auto& s : seen) {
            CHECK(s == 1);
        }
        CHECK(hooks >= 1);  // 500 ms / concurrency of work, a hook about every 100 ms
    }
}

TEST_CASE("parallel_for: a loop inside a loop keeps its own concurrency") {
    // As run_spec across clusters: each cluster's writes are a loop inside the loop over the
    // clusters. Found in review: the inner loops ran one index at a time on pool threads.
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    parallel_for(2, 2, [&](std::size_t) {
        parallel_for(8, 4, [&](std::size_t) {
            const int now = ++running;
            for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            --running;
        });
    });
    CHECK(most > 2);  // one at a time per inner loop would be 2
}

TEST_CASE("parallel_loops: every inner loop has its whole concurrency at once") {
    // As sync across clusters: 4 clusters writing at 60 each want 240 lanes at once, more than
    // the pool's first bound (32) and than any loop of these tests allows. Each index waits
    // until every lane runs (up to 5 s: room for a loaded machine to start 240 threads); with
    // lanes short, the loops take turns and it never gets there.
    constexpr int kLoops = 4;
    constexpr int kInner = 60;
    std::mutex mutex;
    std::condition_variable all_in;
    int running = 0;
    int most = 0;
    parallel_loops(kLoops, kInner, [&](std::size_t) {
        parallel_for(kInner, kInner, [&](std::size_t) {
            std::unique_lock lock(mutex);
            most = std::max(most, ++running);
            all_in.notify_all();
            all_in.wait_for(lock, std::chrono::seconds(5), [&] { return most == kLoops * kInner; });
            --running;
        });
    });
    CHECK(most == kLoops * kInner);
}

TEST_CASE("stream runner: stopping wakes the watches, which end at once") {
    ApiFixture<QuietWatches> f;
    EventQueue queue;
    WatchStats stats;
    StreamRunner runner(
        f.api, queue, 0, [](const std::string&) {}, stats);
    for (const std::string ns : {"a", "b"}) {
        StreamSpec spec;
        spec.key = ns;
        spec.namespace_name = ns;
        spec.resource_version = "1";  // watch at once, no list first
        runner.start(spec);
    }
    REQUIRE(f.server.wait_open(2));
    const auto start = std::chrono::steady_clock::now();
    SUBCASE("one") {
        runner.stop("a");
        CHECK_FALSE(runner.running("a"));
        CHECK(runner.running("b"));
        CHECK(f.server.wait_open(1));
    }
    SUBCASE("all") {
        runner.stop_all();
        CHECK_FALSE(runner.running("b"));
        CHECK(f.server.wait_open(0));
    }
    CHECK(f.server.wakes() >= 1);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    runner.stop_all();
}

namespace {

/// Watches opened without a thread (as the curl transport's): kept until the test ends them.
class HeldWatches : public http::Transport {
  public:
    http::Response send(const http::Request& request) override {
        std::lock_guard lock(mutex_);
        ++lists_;
        (void)request;
        return {200, {}, R"({"metadata":{"resourceVersion":"5"},"items":[]})"};
    }
    http::Response stream(const http::Request&, const http::BodySink&,
                          const http::CancelCheck&) override {
        FAIL("a stream was waited for");
        return {};
    }
    void open_stream(const http::Request&, http::BodySink, http::CancelCheck cancelled,
                     http::StreamEnded ended) override {
        std::lock_guard lock(mutex_);
        open_.push_back({std::move(cancelled), std::move(ended)});
        ++opened_;
        changed_.notify_all();
    }
    void wake_streams() override {
        std::vector<Open> cancelled;
        {
            std::lock_guard lock(mutex_);
            const auto it = std::stable_partition(open_.begin(), open_.end(),
                                                  [](const Open& o) { return !o.cancelled(); });
            cancelled.assign(std::make_move_iterator(it), std::make_move_iterator(open_.end()));
            open_.erase(it, open_.end());
        }
        for (auto& o : cancelled) {
            o.ended({200, {}, ""}, nullptr);
        }
    }
    /// Ends every open watch with `status` (a 410: the resourceVersion is gone).
    void end_all(long status) {
        std::vector<Open> open;
        {
            std::lock_guard lock(mutex_);
            open.swap(open_);
        }
        for (auto& o : open) {
            o.ended({status, {}, R"({"kind":"Status","code":410,"reason":"Expired"})"}, nullptr);
        }
    }
    bool wait_opened(int count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, 10s, [&] { return opened_ >= count; });
    }
    int open_now() {
        std::lock_guard lock(mutex_);
        return static_cast<int>(open_.size());
    }
    int lists() {
        std::lock_guard lock(mutex_);
        return lists_;
    }

  private:
    struct Open {
        http::CancelCheck cancelled;
        http::StreamEnded ended;
    };
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Open> open_;
    int opened_ = 0;
    int lists_ = 0;
};

}  // namespace

TEST_CASE("stream runner: streams that watch hold no thread; a 410 relists each, then it watches") {
    ApiFixture<HeldWatches> f;
    EventQueue queue;
    WatchStats stats;
    // Threads detached by earlier tests' fakes may still be ending: never more than before.
    const long before = proc_status("Threads");
    constexpr int kStreams = 300;
    {
        StreamRunner runner(
            f.api, queue, 0, [](const std::string&) {}, stats);
        for (int i = 0; i < kStreams; ++i) {
            StreamSpec spec;
            spec.key = fmt::format("ns-{}", i);
            spec.namespace_name = spec.key;
            spec.resource_version = "1";  // watch at once, no list first
            runner.start(spec);
        }
        REQUIRE(f.server.wait_opened(kStreams));
        // The workers that opened them leave once there is nothing left to do.
        CHECK(eventually([&] { return proc_status("Threads") <= before; }));
        CHECK(f.server.lists() == 0);

        f.server.end_all(410);
        REQUIRE(f.server.wait_opened(2 * kStreams));
        CHECK(f.server.lists() == kStreams);
        CHECK(stats.relists == kStreams);
        CHECK(stats.watch_restarts == kStreams);
        CHECK(eventually([&] { return proc_status("Threads") <= before; }));
        std::size_t relisted = 0;
        for (const auto& e : queue.pop_all(0ms)) {
            relisted += e.kind == StreamEvent::Kind::relisted ? 1 : 0;
        }
        CHECK(relisted == kStreams);

        runner.stop("ns-7");
        CHECK(f.server.open_now() == kStreams - 1);
        runner.stop_all();
        CHECK(f.server.open_now() == 0);
    }
    CHECK(proc_status("Threads") <= before);
}

TEST_CASE("state file: a source's fingerprint; for a sensitive kind, nothing of its values") {
    kube::Object cm;
    cm.name = "app";
    cm.resource_version = "41";
    cm.data = {{"k", {"v\n", false}}};
    // What today's state files hold for a ConfigMap: they stay valid.
    CHECK(source_fingerprint(cm) ==
          "a1c57041c2cb8e25a88d3727a07915ca2303dc9026683190544e8e99fcb9e26a");
    kube::Object secret = cm;
    secret.kind = kube::kSecret;
    secret.data = {{"password", {kCanary, true}}};
    CHECK(source_fingerprint(secret) == "rv:41");
    auto edited = secret;
    edited.data["password"].bytes += "!";
    CHECK(source_fingerprint(edited) == "rv:41");  // the server gives a changed one a new RV
    edited.resource_version = "42";
    CHECK(source_fingerprint(edited) != source_fingerprint(secret));
    WatchState state{"namespaces", {{"src", "41"}}, {{"app", source_fingerprint(secret)}}};
    const auto text = format_watch_state(state);
    check_no_canary(text);
    CHECK(parse_watch_state(text, "/f") == state);
}

namespace {

std::string secret_json(const std::string& value) {
    return fmt::format(
        R"({{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"app","namespace":"src"}},)"
        R"("type":"Opaque","data":{{"password":"{}"}}}})",
        kube::base64_encode(value));
}

// Runs a watch of Secret src/app into namespace t until `until` holds and `linger` more, then
// stops it (the fake serves no watch streams: what happens comes from reads and the state).
// Every action it reports is counted in `actions`.
void watch_until(ApiFixture<FakeApi>& f, const std::string& state_file, std::atomic<int>& actions,
                 const std::function<bool()>& until,
                 std::chrono::milliseconds linger = std::chrono::milliseconds(0)) {
    WatchConfig config;
    config.spec.kind = kube::kSecret;
    config.spec.source_namespace = "src";
    config.spec.selection.names = {"app"};
    config.spec.target_namespaces = {"t"};
    config.state_file = state_file;
    config.resync_period = std::chrono::milliseconds(0);
    config.scope = WatchScope::namespaces;
    std::atomic<bool> stop{false};
    Watcher watcher(
        f.api, config, [&](const WatchAction&) { ++actions; }, [](const std::string&) {});
    std::thread run([&] { watcher.run(stop); });
    CHECK(eventually(until));
    std::this_thread::sleep_for(linger);
    stop = true;
    run.join();
}

}  // namespace

TEST_CASE("state file of a Secret watch: no value on disk; a change while stopped is one pass") {
    TempDir dir;
    const auto state_file = dir.path + "/state";
    ApiFixture<FakeApi> f;
    f.server.add_namespace("t", {});
    f.server.add("secrets", secret_json(kCanary));
    std::atomic<int> actions{0};
    watch_until(f, state_file, actions,
                [&] { return f.server.stored("secrets", "t", "app").has_value(); });
    const auto saved = slurp(state_file);
    check_no_canary(saved);
    const auto rv = f.server.stored("secrets", "src", "app")->resource_version;
    CHECK(parse_watch_state(saved, state_file).source_digests.at("app") == "rv:" + rv);

    SUBCASE("unchanged while stopped: no pass") {
        const auto writes = f.server.write_lines().size();
        const auto sent = f.server.lines().size();
        actions = 0;
        // Past the first read of the source, and a while for a pass that should not come.
        watch_until(
            f, state_file, actions,
            [&] {
                const auto lines = f.server.lines();
                return lines.size() > sent &&
                       std::find(lines.begin() + static_cast<long>(sent), lines.end(),
                                 "GET /api/v1/namespaces/src/secrets/app") != lines.end();
            },
            std::chrono::milliseconds(500));
        CHECK(f.server.write_lines().size() == writes);
        CHECK(actions == 0);
    }
    SUBCASE("changed while stopped: one pass") {
        f.server.add("secrets", secret_json(std::string(kCanary) + "-rotated"));
        actions = 0;
        // The pass's one action: the copy updated (or, where ownership comes from
        // managedFields, which the fake does not keep, reported as drift).
        watch_until(
            f, state_file, actions, [&] { return actions > 0; }, std::chrono::milliseconds(300));
        CHECK(actions == 1);
        check_no_canary(slurp(state_file));
    }
}

TEST_CASE("sealed values: equal values, equal digests; no value in them; never sent") {
    const kube::Value canary{kCanary, false};
    CHECK(seal(canary) == seal(canary));
    CHECK(seal(canary) != seal({std::string(kCanary) + "!", false}));
    CHECK(seal(canary) != seal({kCanary, true}));
    CHECK(seal(canary).bytes != sha256_hex(kCanary));  // keyed: no guess can be tested
    check_no_canary(seal(canary).bytes);

    // kubectl apply's record of a Secret holds its values: it goes too, from the raw object.
    const auto last_applied =
        fmt::format(R"({{\"data\":{{\"password\":\"{}\"}},\"kind\":\"Secret\"}})",
                    kube::base64_encode(kCanary));
    const auto json = fmt::format(
        R"({{"metadata":{{"name":"app","namespace":"b","resourceVersion":"7",)"
        R"("annotations":{{"kubectl.kubernetes.io/last-applied-configuration":"{}","x":"y"}}}},)"
        R"("type":"Opaque","data":{{"password":"{}"}}}})",
        last_applied, kube::base64_encode(kCanary));
    const auto read = kube::object_from_json(kube::kSecret, json, true);
    const auto held = sealed(read);
    CHECK(held.sealed);
    CHECK(read.data.at("password").bytes == kCanary);
    CHECK(held.data.at("password") == seal(read.data.at("password")));
    CHECK(sealed(held).data == held.data);  // sealing twice changes nothing
    CHECK(held.annotations == std::map<std::string, std::string>{{"x", "y"}});
    check_no_canary(held.raw);
    CHECK(held.raw.find("\"x\":\"y\"") != std::string::npos);
    CHECK_THROWS_AS(kube::object_to_json(held), Error);
}

TEST_CASE("copy cache of Secrets: digests of the values, never the values") {
    CopyCache cache("src", kube::kSecret);
    const auto json =
        fmt::format(R"({{"metadata":{{"name":"app","namespace":"b","resourceVersion":"7",)"
                    R"("annotations":{{"cmsync.io/sync-from":"src/app"}},)"
                    R"("managedFields":[{{"manager":"kubectl-cmsync","operation":"Update",)"
                    R"("fieldsType":"FieldsV1","fieldsV1":{{"f:data":{{"f:password":{{}}}}}}}}]}},)"
                    R"("type":"Opaque","data":{{"password":"{}"}}}})",
                    kube::base64_encode(kCanary));
    const auto read = kube::object_from_json(kube::kSecret, json, true);
    for (const auto* ns : {"b", "c"}) {
        auto copy = read;
        copy.namespace_name = ns;
        cache.from_list(ns, "app", copy);
    }
    const auto b = cache.find("b", "app");
    const auto c = cache.find("c", "app");
    REQUIRE(b);
    REQUIRE(c);
    CHECK(b->sealed);
    CHECK(b->data == c->data);
    CHECK(b->data.at("password") == seal(read.data.at("password")));
    CHECK(b->owned_keys == std::vector<std::string>{"password"});  // ownership survives sealing
    CHECK(b->resource_version == "7");
    for (const auto& [key, value] : b->data) {
        check_no_canary(value.bytes);
    }
    CHECK_THROWS_AS(kube::object_to_json(*b), Error);
    // A ConfigMap cache keeps values: what a write needs without a read.
    CopyCache maps("src");
    auto cm = read;
    cm.kind = kube::kConfigMap;
    maps.from_list("b", "app", cm);
    CHECK_FALSE(maps.find("b", "app")->sealed);
    CHECK(maps.find("b", "app")->data.at("password").bytes == kCanary);
}
