// SPDX-License-Identifier: MIT
#include "transfer/file_window.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ocr::transfer {
namespace {
// Read ahead in large pieces: fewer syscalls, and the matcher asks for overlapping ranges.
constexpr std::size_t kReadAhead = 1u << 20;
} // namespace

FileDataWindow::FileDataWindow(int fd, std::int64_t size) : fd_(fd), size_(size)
{
    // The file is read front to back (the matcher's windows only move forward): let the
    // kernel read ahead further. Only advice, so a failure changes nothing.
    if (size_ > static_cast<std::int64_t>(kReadAhead))
        (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

std::span<const std::uint8_t> FileDataWindow::map(std::int64_t offset, std::size_t len)
{
    if (offset < 0 || offset > size_)
        return {};
    len = static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(len), size_ - offset));
    if (offset >= buf_offset_ && offset + static_cast<std::int64_t>(len) <= buf_offset_ + static_cast<std::int64_t>(buf_len_))
        return {buf_.data() + (offset - buf_offset_), len};
    // Keep what of the old window is still ahead of us, read the rest into the same buffer.
    const std::size_t want = std::max(len, static_cast<std::size_t>(std::min<std::int64_t>(kReadAhead, size_ - offset)));
    std::size_t have = 0;
    if (offset >= buf_offset_ && offset < buf_offset_ + static_cast<std::int64_t>(buf_len_)) {
        have = static_cast<std::size_t>(buf_offset_ + static_cast<std::int64_t>(buf_len_) - offset);
        std::memmove(buf_.data(), buf_.data() + (offset - buf_offset_), have);
    }
    if (buf_.size() < want)
        buf_.resize(want);
    while (have < want) {
        const ssize_t n = ::pread(fd_, buf_.data() + have, want - have, offset + static_cast<std::int64_t>(have));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (read_error_ == 0)
                read_error_ = n < 0 ? errno : -1;
            std::fill(buf_.begin() + static_cast<std::ptrdiff_t>(have), buf_.begin() + static_cast<std::ptrdiff_t>(want), 0);
            have = want;
            break;
        }
        have += static_cast<std::size_t>(n);
    }
    buf_offset_ = offset;
    buf_len_ = want;
    return {buf_.data(), len};
}

} // namespace ocr::transfer
