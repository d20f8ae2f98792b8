// SPDX-License-Identifier: MIT
// Internal: the receiver's reading loop shared by the zlib, zstd and lz4 token formats.
#pragma once

#include "protocol/token_codec.hpp"
#include "protocol/token_runs.hpp"

#include <array>
#include <cstdint>
#include <span>

namespace ocr::protocol::token_detail {

/// @brief Reads flags, compressed chunks and block runs (upstream recv_deflated_token,
///        recv_zstd_token and recv_compressed_token share this shape); a subclass supplies
///        the decompressor.
class CompressedTokenDecoder : public TokenDecoder {
public:
    void begin_file(const BlockLayout& layout) final;
    [[nodiscard]] Token next(ByteSource& in) final;
    void see_block(std::span<const std::byte> block_data) final;

protected:
    /// @param keeps_history Whether matched blocks enter the decompressor (zlib): then
    ///        see_block() is mandatory after each Block token.
    explicit CompressedTokenDecoder(bool keeps_history) : keeps_history_(keeps_history) {}

    /// @brief Resets per-file decompressor state.
    virtual void reset_file() = 0;
    /// @brief Hands one compressed chunk (1..16383 bytes) to the decompressor; it stays
    ///        valid until drain() returns an empty span.
    virtual void feed(std::span<const std::byte> chunk) = 0;
    /// @brief The next piece of decompressed output; empty once the fed data is used up.
    ///        Each call does a bounded amount of work.
    [[nodiscard]] virtual std::span<const std::byte> drain() = 0;
    /// @brief A token or the end follows compressed data (zlib restores the sync trailer).
    virtual void end_of_data() {}
    /// @brief Puts a matched block into the decompressor's history (zlib only).
    virtual void add_history(std::span<const std::byte> block_data);

private:
    [[nodiscard]] Token block(std::int32_t index);

    bool keeps_history_;
    bool in_file_ = false;
    bool after_data_ = false;        // compressed data came since the last token
    std::int32_t history_due_ = -1;  // length of the block see_block() must get, or -1
    BlockLayout layout_;
    RunReader runs_;
    std::array<std::byte, kMaxCompressedChunk> chunk_{};
};

} // namespace ocr::protocol::token_detail
