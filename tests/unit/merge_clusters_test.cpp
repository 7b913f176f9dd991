// Ownership across clusters (issue 30): a copy records its source's cluster in
// cmsync.io/sync-from-cluster when it is another cluster, and the cross-source guard treats a
// source of another cluster as another source.
#include <doctest/doctest.h>

#include "plan/merge.hpp"
#include "plan/ownership.hpp"
#include "util/sha256.hpp"

using cmsync::KeyAction;
using cmsync::TargetAction;
using cmsync::kube::Object;
using cmsync::kube::Value;

namespace {

Object source(const std::string& value) {
    Object cm;
    cm.namespace_name = "ns-a";
    cm.name = "app";
    cm.resource_version = "42";
    cm.data["k"] = Value{value, false};
    return cm;
}

// A copy of ns-a/app in ns-b holding k=`value`, written by cmsync as `value`, its source
// recorded in `cluster` (empty: no sync-from-cluster annotation).
Object copy(const std::string& value, const std::string& cluster, const std::string& written = "") {
    Object cm;
    cm.namespace_name = "ns-b";
    cm.name = "app";
    cm.resource_version = "7";
    cm.data["k"] = Value{value, false};
    cm.data["own"] = Value{"mine", false};
    cm.labels[cmsync::kManagedLabel] = "true";
    cm.annotations[cmsync::kSyncFromAnnotation] = "ns-a/app";
    if (!cluster.empty()) {
        cm.annotations[cmsync::kSyncFromClusterAnnotation] = cluster;
    }
    cm.annotations[cmsync::kLastSyncedAnnotation] =
        cmsync::format_last_synced({{"k", cmsync::sha256_hex(written.empty() ? value : written)}});
    return cm;
}

cmsync::TargetPlan plan(const Object& s, const Object* t, const std::string& source_cluster,
                        bool force = false) {
    return cmsync::plan_target({&s, t, "ns-b", std::nullopt, force, nullptr, source_cluster});
}

std::string annotation(const cmsync::TargetPlan& p, const char* name) {
    REQUIRE(p.desired);
    const auto it = p.desired->annotations.find(name);
    return it == p.desired->annotations.end() ? "<absent>" : it->second;
}

}  // namespace

TEST_CASE("ownership across clusters, row by row") {
    const auto s = source("v2");
    struct Row {
        const char* name;
        std::string source_cluster;  // as the copy would record it ("": the copy's own cluster)
        std::string copy_cluster;    // what the copy records
        TargetAction action;
        const char* message;
    };
    const Row rows[] = {
        {"same cluster, as before clusters", "", "", TargetAction::update, ""},
        {"from another cluster, recorded from it", "hub", "hub", TargetAction::update, ""},
        {"from another cluster; the copy is of its own cluster's ns-a/app", "hub", "",
         TargetAction::conflict, "owned by ns-a/app"},
        {"from its own cluster; the copy is of another cluster's ns-a/app", "", "hub",
         TargetAction::conflict, "owned by hub/ns-a/app"},
        {"from one cluster; the copy is of a third cluster's ns-a/app", "hub", "other-hub",
         TargetAction::conflict, "owned by other-hub/ns-a/app"},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            const auto t = copy("v1", row.copy_cluster);
            const auto p = plan(s, &t, row.source_cluster);
            CHECK(p.action == row.action);
            CHECK(p.message == row.message);
            if (row.action == TargetAction::update) {
                CHECK(p.write);
                CHECK(p.desired->data.at("k").bytes == "v2");
                CHECK(p.desired->data.at("own").bytes == "mine");
                CHECK(annotation(p, cmsync::kSyncFromAnnotation) == "ns-a/app");
                CHECK(annotation(p, cmsync::kSyncFromClusterAnnotation) ==
                      (row.source_cluster.empty() ? "<absent>" : row.source_cluster));
            } else {
                CHECK_FALSE(p.write);  // another source's copy is left exactly as it is
                CHECK(p.keys.empty());
                const auto forced = plan(s, &t, row.source_cluster, true);
                CHECK(forced.action == TargetAction::update);
                CHECK(forced.warnings ==
                      std::vector<std::string>{std::string("taking over from ") +
                                               (row.message + 9) + " (--force)"});
                CHECK(annotation(forced, cmsync::kSyncFromClusterAnnotation) ==
                      (row.source_cluster.empty() ? "<absent>" : row.source_cluster));
                CHECK(forced.desired->data.at("own").bytes == "mine");
            }
        }
    }
}

TEST_CASE("a copy made from another cluster records it; one of the same cluster does not") {
    const auto s = source("v");
    SUBCASE("created from another cluster") {
        const auto p = plan(s, nullptr, "hub");
        CHECK(p.action == TargetAction::create);
        CHECK(annotation(p, cmsync::kSyncFromAnnotation) == "ns-a/app");
        CHECK(annotation(p, cmsync::kSyncFromClusterAnnotation) == "hub");
        // what a version before clusters reads: NAMESPACE/NAME as ever
        CHECK(cmsync::sync_from(*p.desired) == cmsync::kube::ObjectRef{"ns-a", "app"});
    }
    SUBCASE("created in the source's own cluster") {
        const auto p = plan(s, nullptr, "");
        CHECK(annotation(p, cmsync::kSyncFromClusterAnnotation) == "<absent>");
    }
    SUBCASE("in step from another cluster: no write") {
        const auto t = copy("v", "hub");
        const auto p = plan(s, &t, "hub");
        CHECK(p.action == TargetAction::unchanged);
        CHECK_FALSE(p.write);
    }
}

TEST_CASE("a hand edit in a copy from another cluster is a conflict, kept") {
    const auto s = source("v2");
    const auto t = copy("edited", "hub", "v1");  // cmsync wrote v1, someone wrote "edited"
    const auto p = plan(s, &t, "hub");
    CHECK(p.action == TargetAction::conflict);
    CHECK(p.hand_edited);
    REQUIRE(p.keys.size() == 1);
    CHECK(p.keys.front().action == KeyAction::conflict);
    CHECK(p.keys.front().reason == "managed key was edited in the target");
    CHECK_FALSE(p.write);
}

TEST_CASE("a copy from another cluster is no orphan of a source of the same name here") {
    const auto t = copy("v", "hub");
    const auto p = cmsync::plan_orphan(t, {"ns-a", "app"}, true, false);
    CHECK(p.action == TargetAction::unchanged);
    CHECK_FALSE(p.orphaned);
    CHECK_FALSE(p.write);
}

TEST_CASE("copy_of, owner_text and set_sync_from") {
    auto c = copy("v", "");
    CHECK(cmsync::copy_of(c, {"ns-a", "app"}));
    CHECK_FALSE(cmsync::copy_of(c, {"ns-a", "app"}, "hub"));
    CHECK(cmsync::owner_text(c) == "ns-a/app");
    cmsync::set_sync_from(c, {"ns-a", "app"}, "hub");
    CHECK(cmsync::copy_of(c, {"ns-a", "app"}, "hub"));
    CHECK_FALSE(cmsync::copy_of(c, {"ns-a", "app"}));
    CHECK(cmsync::sync_from_cluster(c) == "hub");
    CHECK(cmsync::owner_text(c) == "hub/ns-a/app");
    cmsync::set_sync_from(c, {"ns-a", "app"}, "");
    CHECK(c.annotations.count(cmsync::kSyncFromClusterAnnotation) == 0);
    c.annotations.erase(cmsync::kSyncFromAnnotation);
    CHECK(cmsync::owner_text(c).empty());
}
