// SPDX-License-Identifier: MIT
// Received-path clean-ups, in place on a copy, as upstream util1.c does them.
#include "protocol/flist_path.hpp"

namespace ocr::protocol {
namespace {

// s[i] starts a ".." component: two dots followed by '/' or the end.
bool dot_dot_at(const std::string& s, std::size_t i)
{
    return i + 1 < s.size() && s[i] == '.' && s[i + 1] == '.' &&
           (i + 2 == s.size() || s[i + 2] == '/');
}

} // namespace

CleanedName clean_received_name(std::string_view name)
{
    // Upstream cleans in place: t is the write position, f the read position, t <= f.
    std::string buf(name);
    std::size_t t = 0;
    std::size_t f = 0;
    bool anchored = false;
    if (!buf.empty() && buf[0] == '/') {
        anchored = true;
        t = f = 1;
    } else if (dot_dot_at(buf, 0)) {
        return CleanedName{false, buf};
    }
    while (f < buf.size()) {
        if (buf[f] == '/') {
            ++f;
            continue;
        }
        if (buf[f] == '.') {
            if (f + 1 < buf.size() && buf[f + 1] == '/') {
                f += 2;
                continue;
            }
            if (dot_dot_at(buf, f))
                return CleanedName{false, buf};
        }
        // Copy one component including the slash that ends it.
        while (f < buf.size()) {
            const char c = buf[f++];
            buf[t++] = c;
            if (c == '/')
                break;
        }
    }
    if (t > (anchored ? 1u : 0u) && buf[t - 1] == '/')
        --t;
    buf.resize(t);
    if (buf.empty())
        buf = ".";
    return CleanedName{true, std::move(buf)};
}

std::string sanitize_path(std::string_view path, int depth)
{
    std::string out;
    std::size_t p = 0;
    while (p + 1 < path.size() && path[p] == '.' && path[p + 1] == '/')
        p += 2;
    // Leading ".." components that depth allows are kept and become part of the floor.
    std::size_t start = 0;
    while (p < path.size()) {
        if (path[p] == '/') {
            ++p;
            continue;
        }
        if (path[p] == '.' && (p + 1 == path.size() || path[p + 1] == '/')) {
            ++p;
            continue;
        }
        const bool dot_dot = path[p] == '.' && p + 1 < path.size() && path[p + 1] == '.' &&
                             (p + 2 == path.size() || path[p + 2] == '/');
        if (dot_dot) {
            if (depth <= 0 || out.size() != start) {
                p += 2;
                if (out.size() != start) {
                    // Back up over the last copied component (it ends in '/').
                    out.pop_back();
                    while (out.size() > start && out.back() != '/')
                        out.pop_back();
                }
                continue;
            }
            --depth;
            start = out.size() + 3;
        }
        while (p < path.size()) {
            const char c = path[p++];
            out.push_back(c);
            if (c == '/')
                break;
        }
    }
    if (out.empty())
        out = ".";
    return out;
}

int count_dir_elements(std::string_view path) noexcept
{
    int count = 0;
    bool new_component = true;
    for (std::size_t i = 0; i < path.size();) {
        if (path[i++] == '/') {
            new_component =
                i >= path.size() || path[i] != '.' || (i + 1 < path.size() && path[i + 1] != '/');
        } else if (new_component) {
            new_component = false;
            ++count;
        }
    }
    return count;
}

} // namespace ocr::protocol
