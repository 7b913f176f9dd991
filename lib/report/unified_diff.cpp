#include "report/unified_diff.hpp"

#include <fmt/format.h>

#include <string_view>
#include <vector>

namespace cmsync {

namespace {

std::vector<std::string_view> split_lines(const std::string& text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        if (end == std::string::npos) {
            lines.emplace_back(text.data() + start, text.size() - start);
            break;
        }
        lines.emplace_back(text.data() + start, end - start);
        start = end + 1;
    }
    return lines;
}

enum class Op { keep, remove, insert };
struct Edit {
    Op op;
    std::size_t old_index;
    std::size_t new_index;
};

// Myers' O(ND) shortest edit script, traced back through the saved frontiers.
std::vector<Edit> shortest_edit(const std::vector<std::string_view>& a,
                                const std::vector<std::string_view>& b) {
    const long n = static_cast<long>(a.size());
    const long m = static_cast<long>(b.size());
    const long max = n + m;
    std::vector<long> v(2 * static_cast<std::size_t>(max) + 2, 0);
    std::vector<std::vector<long>> trace;
    const auto at = [&](long k) -> long& { return v[static_cast<std::size_t>(k + max + 1)]; };
    long final_d = 0;
    for (long d = 0; d <= max; ++d) {
        trace.push_back(v);
        bool done = false;
        for (long k = -d; k <= d; k += 2) {
            long x = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? at(k + 1) : at(k - 1) + 1;
            long y = x - k;
            while (x < n && y < m &&
                   a[static_cast<std::size_t>(x)] == b[static_cast<std::size_t>(y)]) {
                ++x;
                ++y;
            }
            at(k) = x;
            if (x >= n && y >= m) {
                done = true;
                break;
            }
        }
        if (done) {
            final_d = d;
            break;
        }
    }
    std::vector<Edit> edits;
    long x = n;
    long y = m;
    for (long d = final_d; d >= 0; --d) {
        const auto& vd = trace[static_cast<std::size_t>(d)];
        const auto get = [&](long k) { return vd[static_cast<std::size_t>(k + max + 1)]; };
        const long k = x - y;
        long prev_k = 0;
        if (d == 0) {
            prev_k = 0;
        } else {
            prev_k = (k == -d || (k != d && get(k - 1) < get(k + 1))) ? k + 1 : k - 1;
        }
        const long prev_x = d == 0 ? 0 : get(prev_k);
        const long prev_y = prev_x - prev_k;
        while (x > prev_x && y > prev_y) {
            --x;
            --y;
            edits.push_back({Op::keep, static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
        }
        if (d > 0) {
            if (x == prev_x) {
                --y;
                edits.push_back(
                    {Op::insert, static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
            } else {
                --x;
                edits.push_back(
                    {Op::remove, static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
            }
        }
    }
    return {edits.rbegin(), edits.rend()};
}

}  // namespace

std::string unified_diff(const std::string& old_text, const std::string& new_text,
                         const std::string& old_label, const std::string& new_label, int context) {
    if (old_text == new_text) {
        return {};
    }
    const auto a = split_lines(old_text);
    const auto b = split_lines(new_text);
    const auto edits = shortest_edit(a, b);
    std::string out = fmt::format("--- {}\n+++ {}\n", old_label, new_label);
    const auto ctx = static_cast<std::size_t>(context);
    std::size_t i = 0;
    while (i < edits.size()) {
        if (edits[i].op == Op::keep) {
            ++i;
            continue;
        }
        // A hunk: from `context` keeps before this change to `context` keeps after the last
        // change that is closer than 2*context keeps to the previous one.
        std::size_t start = i >= ctx ? i - ctx : 0;
        while (start < i && edits[start].op != Op::keep) {
            ++start;
        }
        std::size_t end = i;
        std::size_t keeps = 0;
        for (std::size_t j = i; j < edits.size(); ++j) {
            if (edits[j].op == Op::keep) {
                if (++keeps > 2 * ctx) {
                    break;
                }
            } else {
                keeps = 0;
                end = j;
            }
        }
        const std::size_t stop = std::min(edits.size(), end + 1 + ctx);
        std::size_t old_count = 0;
        std::size_t new_count = 0;
        std::string body;
        for (std::size_t j = start; j < stop; ++j) {
            const auto& e = edits[j];
            switch (e.op) {
                case Op::keep:
                    body += fmt::format(" {}\n", a[e.old_index]);
                    ++old_count;
                    ++new_count;
                    break;
                case Op::remove:
                    body += fmt::format("-{}\n", a[e.old_index]);
                    ++old_count;
                    break;
                case Op::insert:
                    body += fmt::format("+{}\n", b[e.new_index]);
                    ++new_count;
                    break;
            }
        }
        const auto old_start = edits[start].old_index + (old_count > 0 ? 1 : 0);
        const auto new_start = edits[start].new_index + (new_count > 0 ? 1 : 0);
        out += fmt::format("@@ -{},{} +{},{} @@\n", old_start, old_count, new_start, new_count);
        out += body;
        i = stop;
    }
    if (out.find("@@") == std::string::npos) {
        out += "(the values differ only in a trailing newline)\n";
    }
    return out;
}

}  // namespace cmsync
