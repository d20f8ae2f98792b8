// SPDX-License-Identifier: MIT
// lz4 tokens: every compressed chunk is an independent LZ4 block.
#include "protocol/protocol_error.hpp"
#include "protocol/token_compressed.hpp"
#include "protocol/token_formats.hpp"
#include "protocol/token_runs.hpp"
#include "protocol/wire.hpp"

#include <lz4.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ocr::protocol::token_detail {

namespace {

// Upstream's buffer size for one block: the bound of a CHUNK_SIZE input, which is also the
// most a received block may expand to.
constexpr int kBlockBufferSize =
    std::max(LZ4_COMPRESSBOUND(static_cast<int>(kTokenChunkSize)),
             static_cast<int>(kMaxCompressedChunk) + 2);

class Lz4Encoder final : public TokenEncoder {
public:
    explicit Lz4Encoder(ByteSink& out) : out_(out), obuf_(kBlockBufferSize) {}

private:
    void start_file(bool /*skip_compress*/) override { runs_.begin_file(); }

    void send(std::int32_t token, std::span<const std::byte> literal,
              std::span<const std::byte> /*block_data*/) override
    {
        std::string buf;
        runs_.on_token(token, !literal.empty(), buf);
        // Upstream also runs the loop for a flush with no new data and then sends an empty
        // block, which upstream's receiver takes for the end of the file. lz4 has no state
        // to flush, so this never sends one.
        if (!literal.empty())
            compress(literal, buf);
        if (token == kEndOfFile)
            put_byte(buf, kEndFlag);
        out_.write_all(std::as_bytes(std::span(buf)));
    }

    // Upstream: the data loop of token.c:send_compressed_token: blocks of at most
    // kMaxCompressedChunk input bytes, halved until the output fits a chunk.
    void compress(std::span<const std::byte> literal, std::string& buf)
    {
        std::size_t offset = 0;
        while (offset < literal.size()) {
            int take = static_cast<int>(std::min(literal.size() - offset, kMaxCompressedChunk));
            const char* src = reinterpret_cast<const char*>(literal.data() + offset);
            int n = 0;
            for (;;) {
                n = LZ4_compress_default(src, obuf_.data(), take, kBlockBufferSize);
                if (n <= 0)
                    throw ProtocolError(ExitCode::StreamIo,
                                        "compress returned " + std::to_string(n));
                if (n <= static_cast<int>(kMaxCompressedChunk))
                    break;
                take /= 2;
            }
            put_chunk_header(buf, static_cast<std::size_t>(n));
            buf.append(obuf_.data(), static_cast<std::size_t>(n));
            offset += static_cast<std::size_t>(take);
        }
    }

    ByteSink& out_;
    RunWriter runs_;
    std::vector<char> obuf_;
};

class Lz4Decoder final : public CompressedTokenDecoder {
public:
    Lz4Decoder() : CompressedTokenDecoder(false), out_(kBlockBufferSize) {}

private:
    void reset_file() override { chunk_ = {}; }

    void feed(std::span<const std::byte> chunk) override { chunk_ = chunk; }

    std::span<const std::byte> drain() override
    {
        // Upstream: the r_inflating state of token.c:recv_compressed_token. A block that
        // decodes to nothing is skipped (upstream would take it for the end of the file).
        if (chunk_.empty())
            return {};
        const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(chunk_.data()),
                                          out_.data(), static_cast<int>(chunk_.size()),
                                          kBlockBufferSize);
        chunk_ = {};
        if (n < 0)
            throw ProtocolError(ExitCode::StreamIo, "uncompress failed: " + std::to_string(n));
        return {reinterpret_cast<const std::byte*>(out_.data()), static_cast<std::size_t>(n)};
    }

    std::span<const std::byte> chunk_;
    std::vector<char> out_;
};

} // namespace

std::unique_ptr<TokenEncoder> make_lz4_encoder(ByteSink& out)
{
    return std::make_unique<Lz4Encoder>(out);
}

std::unique_ptr<TokenDecoder> make_lz4_decoder()
{
    return std::make_unique<Lz4Decoder>();
}

} // namespace ocr::protocol::token_detail
