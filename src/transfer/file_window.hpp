// SPDX-License-Identifier: MIT
// The file being sent, read through a sliding window (upstream fileio.c map_file/map_ptr).
#pragma once

#include "transfer/delta_matcher.hpp"

#include <cstdint>
#include <vector>

namespace ocr::transfer {

/// @brief A DataWindow over an open file descriptor (not owned), read with pread.
///
/// Reads that fail or come up short (the file shrank while we send it) yield zeros and
/// are remembered, as upstream's map_ptr does: the whole-file sum then disagrees and the
/// receiver discards the copy.
class FileDataWindow final : public DataWindow {
public:
    FileDataWindow(int fd, std::int64_t size);

    std::span<const std::uint8_t> map(std::int64_t offset, std::size_t len) override;
    [[nodiscard]] bool read_failed() const noexcept override { return read_error_ != 0; }
    /// @brief The errno of the first failed read (0: none, or the file was shorter).
    [[nodiscard]] int read_errno() const noexcept { return read_error_ > 0 ? read_error_ : 0; }

private:
    int fd_;
    std::int64_t size_;
    std::vector<std::uint8_t> buf_;
    std::int64_t buf_offset_ = 0;
    std::size_t buf_len_ = 0;
    int read_error_ = 0; ///< errno, or -1 for a short file
};

} // namespace ocr::transfer
