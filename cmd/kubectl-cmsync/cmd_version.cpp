#include "cmd_version.hpp"

#include <iostream>

#include "version.hpp"

namespace cmsync::cli {

std::function<int()> setup_version(CLI::App& app) {
    app.add_subcommand("version", "Print the kubectl-cmsync version");
    return [] {
        std::cout << "kubectl-cmsync " << kVersion << "\n";
        return 0;
    };
}

}  // namespace cmsync::cli
