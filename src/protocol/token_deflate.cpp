// SPDX-License-Identifier: MIT
// zlib and zlibx tokens: raw deflate, sync-flushed before each token, made with stock zlib.
#define ZLIB_CONST
#include "protocol/protocol_error.hpp"
#include "protocol/token_compressed.hpp"
#include "protocol/token_formats.hpp"
#include "protocol/token_runs.hpp"
#include "protocol/wire.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ocr::protocol::token_detail {

namespace {

// Upstream AVAIL_OUT_SIZE(CHUNK_SIZE): room for deflating a chunk in one go.
constexpr std::size_t kWorkSize = kTokenChunkSize * 1001 / 1000 + 16;
// Upstream feeds matched blocks to zlib in pieces that fit a stored block.
constexpr std::size_t kMaxStoredBlock = 0xFFFF;
// A sync flush ends with an empty stored block; its length bytes are left off the wire.
constexpr std::array<Bytef, 4> kSyncTrailer{0x00, 0x00, 0xFF, 0xFF};

const Bytef* as_zbytes(const std::byte* p) noexcept
{
    return reinterpret_cast<const Bytef*>(p);
}

class DeflateEncoder final : public TokenEncoder {
public:
    DeflateEncoder(const TokenSettings& settings, ByteSink& out)
        : out_(out), history_(settings.compression == Compression::Zlib),
          old_protocol_(settings.protocol < 31), level_(settings.level)
    {
        init(level_);
    }
    ~DeflateEncoder() override { deflateEnd(&strm_); }
    DeflateEncoder(const DeflateEncoder&) = delete;
    DeflateEncoder& operator=(const DeflateEncoder&) = delete;

private:
    void init(int level)
    {
        strm_ = z_stream{};
        // Upstream: token.c:send_deflated_token (raw deflate, 32 KiB window, memLevel 8).
        if (deflateInit2(&strm_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            throw ProtocolError(ExitCode::Protocol, "compression init failed",
                                UpstreamSite{"token.c", 385}); // token.c:send_deflated_token
        current_level_ = level;
    }

    void start_file(bool skip_compress) override
    {
        runs_.begin_file();
        flush_pending_ = false;
        const int want = skip_compress ? skip_compression_level(Compression::Zlib) : level_;
        if (want != current_level_) {
            deflateEnd(&strm_);
            init(want);
        } else {
            deflateReset(&strm_);
        }
    }

    void send(std::int32_t token, std::span<const std::byte> literal,
              std::span<const std::byte> block_data) override
    {
        if (history_ && token >= 0 && block_data.empty())
            throw std::invalid_argument("zlib tokens need the matched block's bytes");
        std::string buf;
        runs_.on_token(token, !literal.empty(), buf);
        if (!literal.empty() || flush_pending_) {
            compress(token, literal, buf);
            flush_pending_ = token == kDataOnly;
        }
        if (token == kEndOfFile)
            put_byte(buf, kEndFlag);
        else if (token != kDataOnly && history_)
            add_history(block_data);
        out_.write_all(std::as_bytes(std::span(buf)));
    }

    // Upstream: the data loop of token.c:send_deflated_token. Output goes out in chunks of
    // kMaxCompressedChunk; when flushing, the last 4 bytes are held back so that the sync
    // trailer (00 00 FF FF) can be dropped from the final chunk.
    void compress(std::int32_t token, std::span<const std::byte> literal, std::string& buf)
    {
        int flush = Z_NO_FLUSH;
        std::size_t left = literal.size();
        std::size_t offset = 0;
        strm_.avail_in = 0;
        strm_.avail_out = 0;
        do {
            if (strm_.avail_in == 0 && left != 0) {
                const std::size_t n = std::min(left, kTokenChunkSize);
                strm_.next_in = as_zbytes(literal.data() + offset);
                strm_.avail_in = static_cast<uInt>(n);
                left -= n;
                offset += n;
            }
            if (strm_.avail_out == 0) {
                strm_.next_out = obuf_.data() + 2;
                strm_.avail_out = kMaxCompressedChunk;
                if (flush != Z_NO_FLUSH) {
                    std::memcpy(obuf_.data() + 2, obuf_.data() + kMaxCompressedChunk - 2, 4);
                    strm_.next_out += 4;
                    strm_.avail_out -= 4;
                }
            }
            if (left == 0 && token != kDataOnly)
                flush = Z_SYNC_FLUSH;
            const int r = deflate(&strm_, flush);
            if (r != Z_OK)
                throw ProtocolError(ExitCode::StreamIo, "deflate returned " + std::to_string(r));
            if (left == 0 || strm_.avail_out == 0) {
                int n = static_cast<int>(kMaxCompressedChunk - strm_.avail_out);
                if (flush != Z_NO_FLUSH)
                    n -= 4;
                if (n > 0) {
                    obuf_[0] = static_cast<Bytef>(kDeflatedData + (n >> 8));
                    obuf_[1] = static_cast<Bytef>(n & 0xFF);
                    buf.append(reinterpret_cast<const char*>(obuf_.data()),
                               static_cast<std::size_t>(n) + 2);
                }
            }
        } while (left != 0 || strm_.avail_out == 0);
    }

    // Upstream: the end of token.c:send_deflated_token. Stock zlib has no Z_INSERT_ONLY, so
    // the block is sync-flushed through the compressor and the output thrown away: the
    // window then holds the block exactly as the receiver's see_block() leaves its own.
    // Below protocol 31 every piece repeats the block's first 64 KiB (upstream's bug, kept
    // because both ends must do the same).
    void add_history(std::span<const std::byte> block)
    {
        std::size_t left = block.size();
        const std::byte* p = block.data();
        do {
            const std::size_t n = std::min(left, kMaxStoredBlock);
            left -= n;
            strm_.next_in = as_zbytes(p);
            strm_.avail_in = static_cast<uInt>(n);
            if (!old_protocol_)
                p += n;
            do {
                strm_.next_out = obuf_.data();
                strm_.avail_out = static_cast<uInt>(obuf_.size());
                const int r = deflate(&strm_, Z_SYNC_FLUSH);
                if (r != Z_OK) {
                    throw ProtocolError(ExitCode::StreamIo,
                                        "deflate on token returned " + std::to_string(r) + " (" +
                                            std::to_string(strm_.avail_in) + " bytes left)");
                }
            } while (strm_.avail_in != 0 || strm_.avail_out == 0);
        } while (left > 0);
    }

    ByteSink& out_;
    const bool history_;
    const bool old_protocol_;
    const int level_;
    int current_level_ = 0;
    bool flush_pending_ = false;
    RunWriter runs_;
    z_stream strm_{};
    std::array<Bytef, std::max(kWorkSize, kMaxCompressedChunk + 2)> obuf_{};
};

class DeflateDecoder final : public CompressedTokenDecoder {
public:
    explicit DeflateDecoder(const TokenSettings& settings)
        : CompressedTokenDecoder(settings.compression == Compression::Zlib),
          old_protocol_(settings.protocol < 31)
    {
        if (inflateInit2(&strm_, -15) != Z_OK)
            throw ProtocolError(ExitCode::Protocol, "inflate init failed",
                                UpstreamSite{"token.c", 586}); // token.c:recv_deflated_token
    }
    ~DeflateDecoder() override { inflateEnd(&strm_); }
    DeflateDecoder(const DeflateDecoder&) = delete;
    DeflateDecoder& operator=(const DeflateDecoder&) = delete;

private:
    void reset_file() override
    {
        inflateReset(&strm_);
        strm_.avail_in = 0;
        more_out_ = false;
    }

    void feed(std::span<const std::byte> chunk) override
    {
        strm_.next_in = as_zbytes(chunk.data());
        strm_.avail_in = static_cast<uInt>(chunk.size());
    }

    std::span<const std::byte> drain() override
    {
        // Upstream: the r_inflating state of token.c:recv_deflated_token. Every call either
        // consumes input or fills the buffer, so a chunk is used up in bounded steps.
        while (strm_.avail_in != 0 || more_out_) {
            const uInt before = strm_.avail_in;
            strm_.next_out = out_.data();
            strm_.avail_out = static_cast<uInt>(out_.size());
            const int r = inflate(&strm_, Z_NO_FLUSH);
            const std::size_t n = out_.size() - strm_.avail_out;
            if (r != Z_OK && !(r == Z_BUF_ERROR && n == 0)) {
                throw ProtocolError(ExitCode::StreamIo, "inflate returned " + std::to_string(r) +
                                                            " (" + std::to_string(n) + " bytes)");
            }
            more_out_ = strm_.avail_out == 0;
            if (n != 0)
                return {reinterpret_cast<const std::byte*>(out_.data()), n};
            if (strm_.avail_in == before && strm_.avail_in != 0)
                throw ProtocolError(ExitCode::StreamIo, "inflate made no progress");
        }
        return {};
    }

    void end_of_data() override
    {
        // Upstream: the r_inflated state of token.c:recv_deflated_token. The sender's sync
        // flush stopped right after a stored block's header; give inflate the length bytes
        // that were left off.
        if (inflateSyncPoint(&strm_) != 1)
            throw ProtocolError(ExitCode::StreamIo, "decompressor lost sync!");
        inflate_all({kSyncTrailer.data(), kSyncTrailer.size()}, "inflate flush");
    }

    void add_history(std::span<const std::byte> block) override
    {
        // Upstream: token.c:see_deflate_token. The block goes in as stored blocks of at most
        // 64 KiB - 1, each behind a made-up header (type 00, LEN, ~LEN).
        std::size_t left = block.size();
        const std::byte* p = block.data();
        while (left > 0) {
            const std::size_t n = std::min(left, kMaxStoredBlock);
            const std::array<Bytef, 5> header{
                0x00, static_cast<Bytef>(n & 0xFF), static_cast<Bytef>(n >> 8),
                static_cast<Bytef>(~n & 0xFF), static_cast<Bytef>((~n >> 8) & 0xFF)};
            inflate_all({header.data(), header.size()}, "inflate (token)");
            inflate_all({as_zbytes(p), n}, "inflate (token)");
            if (!old_protocol_)
                p += n;
            left -= n;
        }
    }

    // Runs inflate over @p in until all of it is consumed, discarding the output.
    void inflate_all(std::span<const Bytef> in, const char* what)
    {
        strm_.next_in = in.data();
        strm_.avail_in = static_cast<uInt>(in.size());
        do {
            const uInt before = strm_.avail_in;
            strm_.next_out = out_.data();
            strm_.avail_out = static_cast<uInt>(out_.size());
            const int r = inflate(&strm_, Z_SYNC_FLUSH);
            const bool progress = strm_.avail_in != before || strm_.avail_out != out_.size();
            if ((r != Z_OK && r != Z_BUF_ERROR) || (!progress && strm_.avail_in != 0))
                throw ProtocolError(ExitCode::StreamIo,
                                    std::string(what) + " returned " + std::to_string(r));
        } while (strm_.avail_in != 0 || strm_.avail_out == 0);
    }

    const bool old_protocol_;
    bool more_out_ = false;
    z_stream strm_{};
    std::array<Bytef, kWorkSize> out_{};
};

} // namespace

std::unique_ptr<TokenEncoder> make_deflate_encoder(const TokenSettings& settings, ByteSink& out)
{
    return std::make_unique<DeflateEncoder>(settings, out);
}

std::unique_ptr<TokenDecoder> make_deflate_decoder(const TokenSettings& settings)
{
    return std::make_unique<DeflateDecoder>(settings);
}

} // namespace ocr::protocol::token_detail
