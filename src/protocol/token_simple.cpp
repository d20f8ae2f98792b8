// SPDX-License-Identifier: MIT
// Plain tokens: int32 n > 0 and n literal bytes, int32 -(i+1) for block i, int32 0 at the end.
#include "protocol/token_formats.hpp"
#include "protocol/token_runs.hpp"
#include "protocol/wire.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

namespace ocr::protocol::token_detail {

namespace {

class SimpleEncoder final : public TokenEncoder {
public:
    explicit SimpleEncoder(ByteSink& out) : out_(out) {}

private:
    void start_file(bool /*skip_compress*/) override {}

    void send(std::int32_t token, std::span<const std::byte> literal,
              std::span<const std::byte> /*block_data*/) override
    {
        // Upstream: token.c:simple_send_token (literal data in pieces of at most CHUNK_SIZE).
        // The header and the data go to the sink separately: the data is copied once, into
        // the connection's output, not first into a buffer of its own.
        std::string head;
        for (std::size_t done = 0; done < literal.size();) {
            const std::size_t n = std::min(kTokenChunkSize, literal.size() - done);
            head.clear();
            put_i32(head, static_cast<std::int32_t>(n));
            out_.write_all(std::as_bytes(std::span(head)));
            out_.write_all(literal.subspan(done, n));
            done += n;
        }
        if (token != kDataOnly) {
            head.clear();
            put_i32(head, -(token + 1));
            out_.write_all(std::as_bytes(std::span(head)));
        }
    }

    ByteSink& out_;
};

class SimpleDecoder final : public TokenDecoder {
public:
    void begin_file(const BlockLayout& layout) override
    {
        check_layout(layout);
        layout_ = layout;
        left_ = 0;
        in_file_ = true;
    }

    Token next(ByteSource& in) override
    {
        // Upstream: token.c:simple_recv_token. A literal run may be longer than CHUNK_SIZE
        // (some peers use 64 KiB); it is handed out CHUNK_SIZE bytes at a time.
        if (!in_file_)
            throw std::logic_error("TokenDecoder::next: no file started");
        if (left_ == 0) {
            const std::int32_t v = get_i32(in);
            if (v == 0) {
                in_file_ = false;
                return Token{};
            }
            if (v < 0)
                return block_token(layout_, -(static_cast<std::int64_t>(v) + 1));
            left_ = static_cast<std::uint32_t>(v);
        }
        const std::size_t n = std::min<std::size_t>(left_, buf_.size());
        const std::span<std::byte> piece(buf_.data(), n);
        in.read_exact(piece);
        left_ -= static_cast<std::uint32_t>(n);
        Token t;
        t.kind = Token::Kind::Literal;
        t.data = piece;
        return t;
    }

    void see_block(std::span<const std::byte> /*block_data*/) override {}

private:
    BlockLayout layout_;
    std::uint32_t left_ = 0;
    bool in_file_ = false;
    std::array<std::byte, kTokenChunkSize> buf_{};
};

} // namespace

std::unique_ptr<TokenEncoder> make_simple_encoder(ByteSink& out)
{
    return std::make_unique<SimpleEncoder>(out);
}

std::unique_ptr<TokenDecoder> make_simple_decoder()
{
    return std::make_unique<SimpleDecoder>();
}

} // namespace ocr::protocol::token_detail
