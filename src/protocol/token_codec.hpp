// SPDX-License-Identifier: MIT
// The file-data token stream: literal bytes and basis-block references, plain or compressed.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/compression.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ocr::protocol {

/// Upstream CHUNK_SIZE: the largest literal piece a sender writes at once.
inline constexpr std::size_t kTokenChunkSize = 32 * 1024;
/// Upstream MAX_DATA_COUNT: the largest compressed chunk (14-bit length).
inline constexpr std::size_t kMaxCompressedChunk = 16383;
/// Upstream MAX_TOKEN_INDEX: the largest block number either format can carry.
inline constexpr std::int32_t kMaxTokenIndex = 0x7FFFFFFE;

/// @brief What both ends agreed on for the session's token stream.
struct TokenSettings {
    Compression compression = Compression::None;
    /// The compressor level (resolve_compression_level()); only senders use it.
    int level = 0;
    /// The session's protocol: zlib's matched-block history has a quirk below 31.
    int protocol = 32;
};

/// @brief The basis file's blocks as the sum header describes them (count, block length,
///        length of the last block or 0 when it is full).
struct BlockLayout {
    std::int32_t count = 0;
    std::int32_t length = 0;
    std::int32_t remainder = 0;

    /// @brief The byte length of block @p index (which must be below count).
    [[nodiscard]] std::int32_t block_length(std::int32_t index) const noexcept
    {
        return index == count - 1 && remainder != 0 ? remainder : length;
    }
};

/// @brief One decoded token.
struct Token {
    enum class Kind : std::uint8_t {
        Literal, ///< `data` holds new file bytes
        Block,   ///< copy basis block `block` (`length` bytes)
        End,     ///< the file's token stream is over (its checksum follows)
    };
    Kind kind = Kind::End;
    /// Literal bytes; valid until the decoder is called again.
    std::span<const std::byte> data;
    std::int32_t block = 0;
    std::int32_t length = 0;
};

/// @brief The sender side: turns a file's literal runs and matched blocks into tokens.
///
/// One object serves a whole session (zstd keeps one compression stream across files).
/// For each file: begin_file(), then literal() and block() calls in file order, then
/// end_file(). literal() keeps a copy of its data until the next call: the data that
/// comes right before a block or the end is sent together with it, which is what makes the
/// output byte-identical to upstream's sender given the same calls (upstream's matcher
/// passes literal data in pieces of at most one block plus 32 KiB: pass similar pieces).
class TokenEncoder {
public:
    virtual ~TokenEncoder() = default;
    TokenEncoder(const TokenEncoder&) = delete;
    TokenEncoder& operator=(const TokenEncoder&) = delete;

    /// @brief Starts a file.
    /// @param skip_compress Use skip_compression_level() for this file (only zlib and zlibx
    ///        can switch; a 3.5.0 sender passes SkipCompress::applies_to_all() here).
    /// @throw std::logic_error if a file is still open.
    void begin_file(bool skip_compress = false);

    /// @brief Adds literal bytes (empty data is ignored).
    /// @throw std::logic_error outside a file.
    void literal(std::span<const std::byte> data);

    /// @brief Adds a reference to basis block @p index.
    /// @param index The block number, 0 .. kMaxTokenIndex.
    /// @param block_data The block's bytes: zlib feeds them to its compressor's history (the
    ///        receiver does the same with its copy); the other formats ignore them.
    /// @throw std::logic_error outside a file; std::invalid_argument for a bad index.
    /// @throw ProtocolError (StreamIo) if the compressor fails.
    void block(std::int32_t index, std::span<const std::byte> block_data);

    /// @brief Ends the file: flushes pending data and writes the end marker.
    /// @throw std::logic_error outside a file; ProtocolError (StreamIo) if the compressor fails.
    void end_file();
    /// @brief One whole upstream send_token() call, encoded at once without keeping a copy
    ///        of @p literal: the literal bytes, then block @p index, or for kStepDataOnly
    ///        nothing more (data follows), or for kStepEndOfFile the end marker, which also
    ///        ends the file. Mixed with literal(), the data literal() kept goes out first.
    ///        Given the same upstream calls, the output equals that of literal()/block()/
    ///        end_file().
    /// @param literal bytes to send as they are (may be empty).
    /// @param index a block number (0 .. kMaxTokenIndex), kStepDataOnly or kStepEndOfFile.
    /// @param block_data the block's bytes (see block()); empty unless index >= 0.
    /// @throw std::logic_error outside a file; std::invalid_argument for a bad index;
    ///        ProtocolError (StreamIo) if the compressor fails.
    void step(std::span<const std::byte> literal, std::int32_t index, std::span<const std::byte> block_data);
    /// step()'s index for "literal data only, more follows" (upstream token -2).
    static constexpr std::int32_t kStepDataOnly = -2;
    /// step()'s index for "literal data, then the end of the file" (upstream token -1).
    static constexpr std::int32_t kStepEndOfFile = -1;
    /// @brief Whether a file is open (between begin_file() and its end).
    [[nodiscard]] bool in_file() const noexcept { return in_file_; }

protected:
    TokenEncoder() = default;
    /// Upstream's pseudo tokens: end of file, and "data only, more to come".
    static constexpr std::int32_t kEndOfFile = -1;
    static constexpr std::int32_t kDataOnly = -2;

    /// @brief Upstream token.c:send_token for one format: @p literal, then @p token
    ///        (a block number, kEndOfFile, or kDataOnly for none).
    virtual void send(std::int32_t token, std::span<const std::byte> literal,
                      std::span<const std::byte> block_data) = 0;
    /// @brief Resets per-file state.
    virtual void start_file(bool skip_compress) = 0;

private:
    std::vector<std::byte> pending_;
    bool in_file_ = false;
};

/// @brief The receiver side: reads a file's tokens back.
///
/// One object serves a whole session. For each file: begin_file() with the sum header's
/// layout, then next() until it returns Token::Kind::End. Every block number is checked
/// against the layout; every length and count read from the peer is bounded.
/// After each Block token the caller must hand the block's bytes to see_block() before
/// calling next() again (zlib puts them into its decompressor's history; other formats
/// ignore them). A caller without a basis (discarding the data) passes zeros.
class TokenDecoder {
public:
    virtual ~TokenDecoder() = default;
    TokenDecoder(const TokenDecoder&) = delete;
    TokenDecoder& operator=(const TokenDecoder&) = delete;

    /// @brief Starts a file.
    /// @throw std::invalid_argument for an inconsistent layout (negative values, remainder
    ///        larger than the block length, blocks of length 0).
    virtual void begin_file(const BlockLayout& layout) = 0;

    /// @brief Reads the next token from @p in.
    /// @throw ProtocolError: Protocol for an invalid block number ("Invalid block index ..."
    ///        or "invalid token number in compressed stream"), StreamIo for data that does
    ///        not decompress or an early end of @p in.
    /// @throw std::logic_error if no file is open or a block still awaits see_block().
    [[nodiscard]] virtual Token next(ByteSource& in) = 0;

    /// @brief Gives the decoder the bytes of the block next() just returned.
    /// @throw std::logic_error (zlib) if no block awaits them or the size is wrong.
    /// @throw ProtocolError (StreamIo) if the decompressor rejects them.
    virtual void see_block(std::span<const std::byte> block_data) = 0;

protected:
    TokenDecoder() = default;
};

/// @brief Makes the sender side for @p settings, writing to @p out (which must outlive it).
/// @throw ProtocolError (Protocol) if the compressor cannot be set up.
[[nodiscard]] std::unique_ptr<TokenEncoder> make_token_encoder(const TokenSettings& settings,
                                                               ByteSink& out);

/// @brief Makes the receiver side for @p settings.
/// @throw ProtocolError (Protocol) if the decompressor cannot be set up.
[[nodiscard]] std::unique_ptr<TokenDecoder> make_token_decoder(const TokenSettings& settings);

} // namespace ocr::protocol
