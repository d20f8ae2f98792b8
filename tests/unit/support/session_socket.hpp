// SPDX-License-Identifier: MIT
// Test support: the client's raw end of a transfer session on a socketpair, for the
// session unit tests and the session fuzz targets (files in a module tree, bytes in,
// bytes out).
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ocr::test {

/// @brief Creates (or replaces) @p path holding @p content; aborts when it cannot, since
///        a fixture that is not there makes every later result meaningless.
inline void put_file(const std::string& path, std::string_view content)
{
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f)
        std::abort();
    const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    if (std::fclose(f) != 0 || !ok)
        std::abort();
}

/// @brief Reads and drops everything until end of stream or an error, so that the
///        session on the other end never blocks on its output.
inline void drain(int fd)
{
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        return;
    }
}

/// @brief Sends all of @p bytes, stopping quietly when the other end has gone (a session
///        may end before it has read what a test or fuzz input offers).
inline void send_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

} // namespace ocr::test
