#pragma once

// How doctest prints the containers the table-driven tests compare (instead of "{?}"), so a
// failed CHECK shows what was sent or planned.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

namespace doctest {

template <>
struct StringMaker<std::vector<std::string>> {
    static String convert(const std::vector<std::string>& lines) {
        std::string out = "{";
        for (const auto& line : lines) {
            out += "\n  \"" + line + "\"";
        }
        return (out + (lines.empty() ? "}" : "\n}")).c_str();
    }
};

template <>
struct StringMaker<std::map<std::string, std::string>> {
    static String convert(const std::map<std::string, std::string>& values) {
        std::string out = "{";
        for (const auto& [key, value] : values) {
            out += (out.size() > 1 ? ", " : "") + key + "=" + value;
        }
        return (out + "}").c_str();
    }
};

}  // namespace doctest
