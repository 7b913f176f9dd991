#pragma once

namespace cmsync {

/// How a run goes, whatever it syncs (SyncSpec): from the command line's flags.
struct RunOptions {
    bool force = false;    ///< conflicts become the source's values (and removals)
    int chunk_size = 500;  ///< list page size
    int concurrency = 16;  ///< target namespaces handled at once
};

}  // namespace cmsync
