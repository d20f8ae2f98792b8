// SPDX-License-Identifier: MIT
// zstd tokens: one compression stream for the whole session, flushed before each token.
#include "protocol/protocol_error.hpp"
#include "protocol/token_compressed.hpp"
#include "protocol/token_formats.hpp"
#include "protocol/token_runs.hpp"
#include "protocol/wire.hpp"

#include <zstd.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace ocr::protocol::token_detail {

namespace {

struct CCtxFree {
    void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
    void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};

class ZstdEncoder final : public TokenEncoder {
public:
    ZstdEncoder(const TokenSettings& settings, ByteSink& out) : out_(out), cctx_(ZSTD_createCCtx())
    {
        // Upstream: token.c:send_zstd_token. The session's level; compression threads are
        // not used (they would only change how the sender spends its CPU).
        if (!cctx_ ||
            ZSTD_isError(ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel,
                                                settings.level)))
            throw ProtocolError(ExitCode::Protocol, "compression init failed",
                                UpstreamSite{"token.c", 746}); // token.c:send_zstd_token
    }

private:
    void start_file(bool /*skip_compress*/) override
    {
        // zstd cannot change its level inside a frame, and the frame spans the session.
        runs_.begin_file();
        flush_pending_ = false;
    }

    void send(std::int32_t token, std::span<const std::byte> literal,
              std::span<const std::byte> /*block_data*/) override
    {
        std::string buf;
        runs_.on_token(token, !literal.empty(), buf);
        if (!literal.empty() || flush_pending_) {
            compress(token, literal, buf);
            flush_pending_ = token == kDataOnly;
        }
        if (token == kEndOfFile)
            put_byte(buf, kEndFlag);
        out_.write_all(std::as_bytes(std::span(buf)));
    }

    // Upstream: the data loop of token.c:send_zstd_token. Data that a token follows is
    // flushed so that the receiver can rebuild everything before the token.
    void compress(std::int32_t token, std::span<const std::byte> literal, std::string& buf)
    {
        ZSTD_inBuffer in{literal.data(), literal.size(), 0};
        const ZSTD_EndDirective mode = token == kDataOnly ? ZSTD_e_continue : ZSTD_e_flush;
        bool finished = false;
        do {
            ZSTD_outBuffer out{obuf_.data(), obuf_.size(), 0};
            const std::size_t r = ZSTD_compressStream2(cctx_.get(), &out, &in, mode);
            if (ZSTD_isError(r)) {
                throw ProtocolError(ExitCode::StreamIo,
                                    std::string("ZSTD_compressStream returned ") +
                                        ZSTD_getErrorName(r));
            }
            finished = mode == ZSTD_e_flush ? r == 0 : in.pos == in.size;
            if (out.pos != 0) {
                put_chunk_header(buf, out.pos);
                buf.append(obuf_.data(), out.pos);
            }
        } while (!finished);
    }

    ByteSink& out_;
    std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx_;
    bool flush_pending_ = false;
    RunWriter runs_;
    std::array<char, kMaxCompressedChunk> obuf_{};
};

class ZstdDecoder final : public CompressedTokenDecoder {
public:
    // Upstream: token.c:recv_zstd_token (default decompression limits: a window of at most
    // 128 MiB, which zstd's own level 22 needs).
    ZstdDecoder()
        : CompressedTokenDecoder(false), dctx_(ZSTD_createDCtx()), out_(ZSTD_DStreamOutSize())
    {
        if (!dctx_)
            throw ProtocolError(ExitCode::Protocol, "ZSTD_createDStream failed",
                                UpstreamSite{"token.c", 850}); // token.c:recv_zstd_token
    }

private:
    // The stream continues from file to file.
    void reset_file() override {}

    void feed(std::span<const std::byte> chunk) override
    {
        in_ = ZSTD_inBuffer{chunk.data(), chunk.size(), 0};
        more_out_ = false;
    }

    std::span<const std::byte> drain() override
    {
        while (in_.pos < in_.size || more_out_) {
            const std::size_t before = in_.pos;
            ZSTD_outBuffer out{out_.data(), out_.size(), 0};
            const std::size_t r = ZSTD_decompressStream(dctx_.get(), &out, &in_);
            if (ZSTD_isError(r)) {
                throw ProtocolError(ExitCode::StreamIo, std::string("ZSTD decomp returned ") +
                                                            ZSTD_getErrorName(r));
            }
            // A full buffer may mean that zstd holds more output for the same input.
            more_out_ = out.pos == out.size;
            if (out.pos != 0)
                return {out_.data(), out.pos};
            if (in_.pos == before && in_.pos < in_.size)
                throw ProtocolError(ExitCode::StreamIo, "ZSTD decomp made no progress");
        }
        return {};
    }

    std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx_;
    ZSTD_inBuffer in_{nullptr, 0, 0};
    bool more_out_ = false;
    std::vector<std::byte> out_;
};

} // namespace

std::unique_ptr<TokenEncoder> make_zstd_encoder(const TokenSettings& settings, ByteSink& out)
{
    return std::make_unique<ZstdEncoder>(settings, out);
}

std::unique_ptr<TokenDecoder> make_zstd_decoder()
{
    return std::make_unique<ZstdDecoder>();
}

} // namespace ocr::protocol::token_detail
