// The health server's answers in HTTP/1.1 words.
#include "controller/http_response.hpp"

#include <doctest/doctest.h>

using namespace cmsync::controller;

TEST_CASE("render_response") {
    const Response ok{200, "text/plain; charset=utf-8", "ok\n", {}};
    const struct {
        const char* name;
        Response response;
        bool head_only;
        bool keep_alive;
        int minor;
        const char* text;
    } rows[] = {
        {"kept alive, HTTP/1.1", ok, false, true, 1,
         "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\n"
         "ok\n"},
        {"closing", ok, false, false, 1,
         "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
         "Connection: close\r\n\r\nok\n"},
        {"kept alive, HTTP/1.0", ok, false, true, 0,
         "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
         "Connection: keep-alive\r\n\r\nok\n"},
        {"HEAD: the length, no body", ok, true, true, 1,
         "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\n"},
        {"405 with Allow", Response{405, "text/plain; charset=utf-8", "", {{"Allow", "GET, HEAD"}}},
         false, false, 1,
         "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Length: 0\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\n"},
        {"431", Response{431, "text/plain; charset=utf-8", "x\n", {}}, false, false, 1,
         "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; "
         "charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\nx\n"},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            CHECK(render_response(row.response, row.head_only, row.keep_alive, row.minor) ==
                  row.text);
        }
    }
}
