#pragma once

#include <string>
#include <string_view>

namespace cmsync {

/// `text` with every control character but tab written as an escape (\n, \r, \x1b, \u0085,
/// ...), for text output: names, values and messages from a server then cannot move the
/// cursor, colour the terminal, set its title or forge a line. JSON output needs none of this.
std::string escape_control(std::string_view text);

/// escape_control() line by line: the line breaks of `text` stay.
std::string escape_control_lines(std::string_view text);

}  // namespace cmsync
