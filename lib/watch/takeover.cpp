#include "watch/takeover.hpp"

namespace cmsync {

bool Takeover::take_repair(bool leading, bool lists_done) {
    if (!leading || !lists_done) {
        return false;
    }
    // Cleared before the repair runs: what the repair itself skips (it stopped leading midway,
    // and the process is on its way out) stays owed.
    return skipped_.exchange(false);
}

}  // namespace cmsync
