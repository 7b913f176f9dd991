#pragma once

#include <fstream>
#include <sstream>
#include <string>

/// The content of tests/unit/inputs/NAME: hostile inputs the unit tests replay, kept as files
/// so that fuzz targets can take them as seeds.
inline std::string test_input(const std::string& name) {
    std::ifstream in(std::string(CMSYNC_TEST_INPUTS) + "/" + name, std::ios::binary);
    REQUIRE_MESSAGE(in, "missing test input " << name);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}
