// SPDX-License-Identifier: MIT
// Internal: the flag bytes of compressed token streams and the block-run bookkeeping.
#include "protocol/token_runs.hpp"

#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <stdexcept>

namespace ocr::protocol::token_detail {

namespace {

[[noreturn]] void invalid_token()
{
    // Upstream: token.c:invalid_compressed_token.
    throw ProtocolError(ExitCode::Protocol, "invalid token number in compressed stream",
                        UpstreamSite{"token.c", 531}); // token.c:invalid_compressed_token
}

// A run may hold the first block and up to 65535 more (a 16-bit count).
constexpr std::int32_t kMaxRunExtra = 0xFFFF;

} // namespace

void put_chunk_header(std::string& out, std::size_t n)
{
    put_byte(out, static_cast<std::uint8_t>(kDeflatedData | (n >> 8)));
    put_byte(out, static_cast<std::uint8_t>(n & 0xFF));
}

void RunWriter::on_token(std::int32_t token, bool has_literal, std::string& out)
{
    // Upstream: the run bookkeeping at the top of token.c:send_deflated_token (shared by the
    // zstd and lz4 senders).
    if (last_token_ == -1) {
        last_run_end_ = 0;
        run_start_ = token;
        last_token_ = token;
        return;
    }
    if (last_token_ == -2) {
        run_start_ = token;
    } else if (has_literal || token != last_token_ + 1 ||
               static_cast<std::int64_t>(token) > static_cast<std::int64_t>(run_start_) + kMaxRunExtra) {
        const std::int64_t rel = static_cast<std::int64_t>(run_start_) - last_run_end_;
        const std::int32_t extra = last_token_ - run_start_;
        if (rel >= 0 && rel <= 63) {
            put_byte(out, static_cast<std::uint8_t>((extra == 0 ? kTokenRel : kTokenRunRel) + rel));
        } else {
            put_byte(out, extra == 0 ? kTokenLong : kTokenRunLong);
            put_i32(out, run_start_);
        }
        if (extra != 0)
            put_u16(out, static_cast<std::uint16_t>(extra));
        last_run_end_ = last_token_;
        run_start_ = token;
    }
    last_token_ = token;
}

std::int32_t RunReader::next_in_run() noexcept
{
    // read() made sure the whole run stays within kMaxTokenIndex.
    --run_left_;
    return ++token_;
}

std::int32_t RunReader::read(std::uint8_t flag, ByteSource& in)
{
    // Upstream: token.c:recv_compressed_token_num, with its CVE-2026-43618 bounds: block
    // numbers stay within 0..kMaxTokenIndex, including the last block of a run.
    bool run = false;
    if (flag & kTokenRel) {
        const std::int32_t step = flag & 0x3F;
        if (token_ > kMaxTokenIndex - step)
            invalid_token();
        token_ += step;
        run = (flag & 0x40) != 0;
    } else {
        // Upstream takes any of 0x01..0x3F as a long token and bit 0 as the run marker.
        const std::int32_t t = get_i32(in);
        if (t < 0 || t > kMaxTokenIndex)
            invalid_token();
        token_ = t;
        run = (flag & 1) != 0;
    }
    if (run) {
        const std::int32_t count = get_u16(in);
        if (count <= 0 || token_ > kMaxTokenIndex - count)
            invalid_token();
        run_left_ = count;
    }
    return token_;
}

void check_layout(const BlockLayout& layout)
{
    if (layout.count < 0 || layout.length < 0 || layout.remainder < 0 ||
        layout.remainder > layout.length || (layout.count > 0 && layout.length == 0))
        throw std::invalid_argument("token decoder: inconsistent block layout");
}

Token block_token(const BlockLayout& layout, std::int64_t index)
{
    // Upstream: receiver.c:receive_data checks every block number against the sum count.
    if (index < 0 || index >= layout.count) {
        throw ProtocolError(ExitCode::Protocol, "Invalid block index " + std::to_string(index) +
                                                    " (count=" + std::to_string(layout.count) +
                                                    ") [receiver]",
                            UpstreamSite{"receiver.c", 572}); // receiver.c:receive_data
    }
    const auto i = static_cast<std::int32_t>(index);
    Token t;
    t.kind = Token::Kind::Block;
    t.block = i;
    t.length = layout.block_length(i);
    return t;
}

} // namespace ocr::protocol::token_detail
