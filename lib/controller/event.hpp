#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "kube/kind.hpp"

namespace cmsync::controller {

using EventClock = std::chrono::system_clock;
using EventTime = EventClock::time_point;

/// What cmsync puts in reportingController: a qualified name, as the API requires.
inline constexpr std::string_view kReportingController = "cmsync.io/kubectl-cmsync";
/// The API's limits (pkg/apis/core/validation/events.go): note 1024 bytes; reason, action and
/// reportingInstance 128; an Event's name is a DNS subdomain of at most 253.
inline constexpr std::size_t kMaxNote = 1024;
inline constexpr std::size_t kMaxShortField = 128;
inline constexpr std::size_t kMaxEventName = 253;

enum class EventType { normal, warning };

/// The object an Event is about (regarding).
struct ObjectRef {
    std::string namespace_name;
    std::string name;
    std::string uid;
    std::string resource_version;  ///< optional
    kube::Kind kind = kube::kConfigMap;
};

/// One thing that happened to a copy, as the caller reports it.
struct EventOccurrence {
    ObjectRef regarding;
    EventType type = EventType::normal;
    std::string reason;  ///< CamelCase, e.g. Conflict, Drift, Orphaned, WriteFailed
    std::string action;  ///< e.g. Sync
    std::string note;    ///< human-readable; cut to kMaxNote bytes
};

/// An Event as written: an occurrence with its name, time and series.
struct EventObject {
    std::string name;
    EventOccurrence occurrence;
    std::string reporting_instance;
    EventTime event_time;
    int count = 1;  ///< series.count when 2 or more
    EventTime last_observed;
};

/// "2026-11-29T08:40:00.123456Z" (metav1.MicroTime, UTC).
std::string format_micro_time(EventTime time);
/// `text` cut to at most `max` bytes, at a UTF-8 character boundary, ending in "..." when cut.
std::string truncate_utf8(std::string_view text, std::size_t max);
/// "<object name>.<suffix>", the object name shortened so that the whole stays a DNS subdomain
/// of at most kMaxEventName characters.
std::string event_name(std::string_view object_name, std::string_view suffix);
/// The events.k8s.io/v1 Event to POST; with a series when `event.count` >= 2.
std::string event_json(const EventObject& event);
/// The merge patch that sets series {count, lastObservedTime}.
std::string series_patch_json(int count, EventTime last_observed);

}  // namespace cmsync::controller
