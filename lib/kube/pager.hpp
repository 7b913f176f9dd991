#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace cmsync::kube {

/// More pages than this in one list means a server paging without end: 5 million objects at
/// the default page size of 500, more than a cluster holds.
constexpr int kMaxPages = 10000;

/// The state of one paged list (limit/continue), without I/O. The list is done when a page
/// comes back with an empty continue token, however many items it held.
class Pager {
  public:
    /// `max_restarts` bounds how often an expired continue token may restart the list.
    explicit Pager(int limit, int max_restarts = 5) : limit_(limit), max_restarts_(max_restarts) {}

    /// The query for the next page: "limit=N" plus "&continue=TOKEN" after the first page.
    /// resourceVersion is never sent: a consistent read, and continue pages must not carry it.
    std::string query() const;
    /// Records a page of `items` objects with its continue token and remainingItemCount (when
    /// sent); returns true when another page follows. Throws Error when the server pages
    /// without end: a token seen before in this list, more than twice the objects the first
    /// page announced (objects may be created meanwhile), or more than kMaxPages pages.
    bool on_page(const std::string& continue_token, std::size_t items = 0,
                 std::optional<std::int64_t> remaining = std::nullopt);
    /// A 410 Expired: true when the list should start over (the pages seen so far are void);
    /// false when it is the first page or the restart budget is spent (the caller fails).
    bool on_expired();
    /// Pages received since the last (re)start.
    int pages() const { return pages_; }
    /// How often the list started over.
    int restarts() const { return restarts_; }

  private:
    int limit_;
    int max_restarts_;
    int restarts_ = 0;
    int pages_ = 0;
    std::string continue_;
    std::set<std::string> seen_;
    std::uint64_t items_ = 0;
    std::optional<std::uint64_t> announced_;
};

/// Percent-encodes `text` for a URL query value.
std::string query_escape(const std::string& text);

}  // namespace cmsync::kube
