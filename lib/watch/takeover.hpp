#pragma once

#include <atomic>

namespace cmsync {

/// When a replica of `watch --leader-elect` that starts to lead repairs every copy from its
/// source. A standby sees every change but writes none; what it skipped is written by that
/// repair, once it leads. Two rules keep each missing copy to one write:
/// - The repair waits until every stream has had its first list. A list read before the
///   repair's writes but handled after them says the copies just created are missing: its
///   pass would create them again, each answered 409 AlreadyExists (issue 26 item 8: 5
///   creates for 3 missing copies in 4 of 6 start-ups, the Lease won while the lists were on
///   their way).
/// - A replica that skipped nothing (it led before its first lists were handled: the usual
///   start-up) owes no repair: those lists are its first pass.
/// Pure: the loop says whether it leads and whether the first lists are in.
class Takeover {
  public:
    /// Something was not written because this replica did not lead: a copy's event or list,
    /// a source's pass, an orphan. Thread-safe (passes run on worker threads).
    void skipped() { skipped_ = true; }
    /// Whether something skipped is still to be repaired.
    bool owed() const { return skipped_; }
    /// Whether to repair every copy now: `leading`, something was skipped, and `lists_done`
    /// (every stream past its first list). True once per debt: the caller repairs.
    bool take_repair(bool leading, bool lists_done);

  private:
    std::atomic<bool> skipped_{false};
};

}  // namespace cmsync
