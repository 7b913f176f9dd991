#pragma once

#include <string>

namespace cmsync::kube {

/// The state of one paged list (limit/continue), without I/O. The list is done when a page
/// comes back with an empty continue token, however many items it held.
class Pager {
  public:
    /// `max_restarts` bounds how often an expired continue token may restart the list.
    explicit Pager(int limit, int max_restarts = 5) : limit_(limit), max_restarts_(max_restarts) {}

    /// The query for the next page: "limit=N" plus "&continue=TOKEN" after the first page.
    /// resourceVersion is never sent: a consistent read, and continue pages must not carry it.
    std::string query() const;
    /// Records a page; returns true when another page follows.
    bool on_page(const std::string& continue_token);
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
};

/// Percent-encodes `text` for a URL query value.
std::string query_escape(const std::string& text);

}  // namespace cmsync::kube
