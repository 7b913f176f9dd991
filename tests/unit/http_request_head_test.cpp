// The health server's request-head parser, a row per case, each head also fed byte by byte
// and split in two at every offset.
#include "controller/http_request_head.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace cmsync::controller;
using Outcome = HeadParse::Outcome;

namespace {

constexpr std::size_t kMax = 16 * 1024;

// The head fed one byte more each time, `searched` passed back as a connection does: the
// first outcome that is not incomplete (or incomplete at the end).
HeadParse byte_by_byte(const std::string& text, std::size_t max = kMax) {
    HeadParse p;
    for (std::size_t n = 1; n <= text.size(); ++n) {
        p = parse_request_head(std::string_view(text).substr(0, n), max, p.size);
        if (p.outcome != Outcome::incomplete) {
            break;
        }
    }
    return p;
}

}  // namespace

TEST_CASE("parse_request_head: complete heads") {
    const struct {
        const char* name;
        std::string text;
        const char* method;
        const char* path;
        int minor;
        bool keep_alive;
        bool has_body;
    } rows[] = {
        {"a probe", "GET /healthz HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n\r\n", "GET", "/healthz", 1,
         true, false},
        {"HEAD, query dropped, close",
         "HEAD /readyz?verbose=1 HTTP/1.1\r\nHost: x\r\n"
         "Connection: close\r\n\r\n",
         "HEAD", "/readyz", 1, false, false},
        {"HTTP/1.0 closes", "GET /metrics HTTP/1.0\r\n\r\n", "GET", "/metrics", 0, false, false},
        {"HTTP/1.0 keep-alive", "GET /metrics HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET",
         "/metrics", 0, true, false},
        {"absolute form, bare LF", "GET http://h:8080/metrics?x=1 HTTP/1.1\nHost: h\n\n", "GET",
         "/metrics", 1, true, false},
        {"absolute form without a path", "GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", 1,
         true, false},
        {"fragment dropped", "GET /x#y HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/x", 1, true, false},
        {"blank lines first", "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", 1, true,
         false},
        {"a body closes", "POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", "POST",
         "/healthz", 1, false, true},
        {"chunked closes", "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", "GET",
         "/", 1, false, true},
        {"names in any case, empty value, equal lengths",
         "GET / HTTP/1.1\r\nHOST:h\r\ncontent-length: 0\r\nContent-Length:  0 \r\nX-Empty:\r\n\r\n",
         "GET", "/", 1, true, false},
        {"asterisk", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*", 1, true, false},
        {"HTTP/1.2 is 1.1", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", "GET", "/", 1, true, false},
        {"close among options",
         "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n", "GET", "/", 1, false,
         false},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            const auto check = [&](const HeadParse& p) {
                REQUIRE(p.outcome == Outcome::complete);
                CHECK(p.size == row.text.size());
                CHECK(p.head.method == row.method);
                CHECK(p.head.path == row.path);
                CHECK(p.head.minor_version == row.minor);
                CHECK(p.head.keep_alive == row.keep_alive);
                CHECK(p.head.has_body == row.has_body);
            };
            check(parse_request_head(row.text, kMax));
            check(byte_by_byte(row.text));
            for (std::size_t split = 0; split < row.text.size(); ++split) {
                CAPTURE(split);
                const auto first = parse_request_head(row.text.substr(0, split), kMax);
                REQUIRE(first.outcome == Outcome::incomplete);
                CHECK(first.size == split);
                check(parse_request_head(row.text, kMax, first.size));
            }
            // What follows the head (a pipelined request, a body) is left for later.
            check(parse_request_head(row.text + "GET /next HTTP/1.1\r\n", kMax));
        }
    }
}

TEST_CASE("parse_request_head: bad heads") {
    const struct {
        const char* name;
        std::string text;
        int status;
        const char* why;
    } rows[] = {
        {"no version", "GET /healthz\r\n\r\n", 400, "malformed request line"},
        {"two spaces", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "malformed request line"},
        {"a fourth word", "GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", 400, "malformed request line"},
        {"method not a token", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "malformed request line"},
        {"control in target", "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400,
         "malformed request line"},
        {"not HTTP", "GET / HTTPS/1.1\r\nHost: h\r\n\r\n", 400, "malformed request line"},
        {"CR inside a line", "GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", 400, "malformed request line"},
        {"too many blank lines first", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400,
         "malformed request line"},
        {"HTTP/2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "HTTP version not supported"},
        {"relative target", "GET healthz HTTP/1.1\r\nHost: h\r\n\r\n", 400,
         "malformed request target"},
        {"other scheme", "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400,
         "malformed request target"},
        {"no Host", "GET / HTTP/1.1\r\n\r\n", 400, "missing Host header"},
        {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
         "more than one Host header"},
        {"folded line", "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400,
         "obsolete line folding"},
        {"space in a name", "GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n", 400,
         "malformed header field"},
        {"space before the colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400,
         "malformed header field"},
        {"no colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400, "malformed header field"},
        {"control in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", 400,
         "malformed header field"},
        {"negative length", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400,
         "malformed Content-Length"},
        {"lengths differ",
         "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
         "malformed Content-Length"},
        {"length too long",
         "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 9999999999999999999\r\n\r\n", 400,
         "malformed Content-Length"},
    };
    for (const auto& row : rows) {
        SUBCASE(row.name) {
            for (const auto& p : {parse_request_head(row.text, kMax), byte_by_byte(row.text)}) {
                REQUIRE(p.outcome == Outcome::bad);
                CHECK(p.status == row.status);
                CHECK(p.why == row.why);
            }
        }
    }
}

TEST_CASE("parse_request_head: the size limit") {
    const std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
    const auto head = [&](std::size_t size) {
        return start + std::string(size - start.size() - 4, 'a') + "\r\n\r\n";
    };
    SUBCASE("a head of exactly the limit is complete") {
        CHECK(parse_request_head(head(64), 64).outcome == Outcome::complete);
        CHECK(byte_by_byte(head(64), 64).outcome == Outcome::complete);
    }
    SUBCASE("one byte more is 431") {
        for (const auto& p : {parse_request_head(head(65), 64), byte_by_byte(head(65), 64)}) {
            REQUIRE(p.outcome == Outcome::bad);
            CHECK(p.status == 431);
            CHECK(p.why == "request header fields too large");
        }
    }
    SUBCASE("431 as soon as more than the limit came without the blank line") {
        const auto text = start + std::string(100, 'a');
        CHECK(parse_request_head(text.substr(0, 64), 64).outcome == Outcome::incomplete);
        CHECK(parse_request_head(text.substr(0, 65), 64).status == 431);
    }
    SUBCASE("a complete head within the limit, whatever follows it") {
        const auto p = parse_request_head(head(60) + std::string(100, 'b'), 64);
        REQUIRE(p.outcome == Outcome::complete);
        CHECK(p.size == 60);
    }
}
