// SPDX-License-Identifier: MIT
// Internal: the flag bytes of compressed token streams and the block-run bookkeeping.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/token_codec.hpp"

#include <cstdint>
#include <string>

namespace ocr::protocol::token_detail {

// Upstream: token.c flag bytes of compressed streams.
inline constexpr std::uint8_t kEndFlag = 0x00;      ///< end of the file's tokens
inline constexpr std::uint8_t kTokenLong = 0x20;    ///< + int32 block number
inline constexpr std::uint8_t kTokenRunLong = 0x21; ///< + int32 + 16-bit count of more blocks
inline constexpr std::uint8_t kDeflatedData = 0x40; ///< + 6 high bits of length, low byte
inline constexpr std::uint8_t kTokenRel = 0x80;     ///< + 6-bit distance from the last run
inline constexpr std::uint8_t kTokenRunRel = 0xC0;  ///< ditto + 16-bit count of more blocks

/// @brief Appends the two-byte header of a compressed chunk of @p n (<= 16383) bytes.
void put_chunk_header(std::string& out, std::size_t n);

/// @brief Sender side: collects consecutive blocks into runs and writes each run's flag
///        once it is complete (upstream's last_token, run_start and last_run_end).
class RunWriter {
public:
    /// @brief Forgets the previous file.
    void begin_file() noexcept { last_token_ = -1; }

    /// @brief Accounts for one send_token() call: writes the previous run to @p out when
    ///        @p token does not extend it.
    /// @param token A block number, or -1 (end of file) / -2 (data only).
    /// @param has_literal Whether literal data comes before @p token in this call.
    void on_token(std::int32_t token, bool has_literal, std::string& out);

private:
    std::int32_t last_token_ = -1;
    std::int32_t run_start_ = 0;
    std::int32_t last_run_end_ = 0;
};

/// @brief Receiver side: turns flags back into block numbers, each bounded.
class RunReader {
public:
    void begin_file() noexcept
    {
        token_ = 0;
        run_left_ = 0;
    }
    /// @brief Whether blocks of a run are still to be returned.
    [[nodiscard]] bool running() const noexcept { return run_left_ > 0; }
    /// @brief The next block of the current run.
    [[nodiscard]] std::int32_t next_in_run() noexcept;
    /// @brief Decodes a token flag (anything but data and the end flag), reading its
    ///        operands from @p in.
    /// @throw ProtocolError (Protocol) for a number out of range or a run count of 0.
    [[nodiscard]] std::int32_t read(std::uint8_t flag, ByteSource& in);

private:
    std::int32_t token_ = 0;
    std::int32_t run_left_ = 0;
};

/// @brief Checks a sum header's layout before a file starts.
/// @throw std::invalid_argument if it is inconsistent.
void check_layout(const BlockLayout& layout);

/// @brief The Block token for @p index.
/// @throw ProtocolError (Protocol, upstream's "Invalid block index") if it is not below the
///        layout's count.
[[nodiscard]] Token block_token(const BlockLayout& layout, std::int64_t index);

} // namespace ocr::protocol::token_detail
