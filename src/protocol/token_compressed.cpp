// SPDX-License-Identifier: MIT
// Internal: the receiver's reading loop shared by the zlib, zstd and lz4 token formats.
#include "protocol/token_compressed.hpp"

#include "protocol/wire.hpp"

#include <stdexcept>

namespace ocr::protocol::token_detail {

void CompressedTokenDecoder::begin_file(const BlockLayout& layout)
{
    check_layout(layout);
    layout_ = layout;
    runs_.begin_file();
    after_data_ = false;
    history_due_ = -1;
    in_file_ = true;
    reset_file();
}

Token CompressedTokenDecoder::next(ByteSource& in)
{
    if (!in_file_)
        throw std::logic_error("TokenDecoder::next: no file started");
    if (history_due_ >= 0)
        throw std::logic_error("TokenDecoder::next: see_block() was not called");
    if (runs_.running())
        return block(runs_.next_in_run());
    for (;;) {
        // Everything the fed chunks hold is handed out before the next flag is read.
        const std::span<const std::byte> out = drain();
        if (!out.empty()) {
            Token t;
            t.kind = Token::Kind::Literal;
            t.data = out;
            return t;
        }
        const std::uint8_t flag = get_byte(in);
        if ((flag & 0xC0) == kDeflatedData) {
            // A 14-bit length: never more than the chunk buffer holds.
            const std::size_t n = static_cast<std::size_t>(flag & 0x3F) << 8 | get_byte(in);
            const std::span<std::byte> chunk(chunk_.data(), n);
            in.read_exact(chunk);
            // An empty chunk carries nothing and is skipped (upstream's inflate would fail
            // on it; its lz4 and zstd readers would make nothing of it either).
            if (n != 0) {
                feed(chunk);
                after_data_ = true;
            }
            continue;
        }
        if (after_data_) {
            after_data_ = false;
            end_of_data();
        }
        if (flag == kEndFlag) {
            in_file_ = false;
            return Token{};
        }
        return block(runs_.read(flag, in));
    }
}

void CompressedTokenDecoder::see_block(std::span<const std::byte> block_data)
{
    if (!keeps_history_)
        return;
    if (history_due_ < 0 || block_data.size() != static_cast<std::size_t>(history_due_))
        throw std::logic_error("TokenDecoder::see_block: no such block is due");
    history_due_ = -1;
    add_history(block_data);
}

void CompressedTokenDecoder::add_history(std::span<const std::byte> /*block_data*/) {}

Token CompressedTokenDecoder::block(std::int32_t index)
{
    Token t = block_token(layout_, index);
    if (keeps_history_)
        history_due_ = t.length;
    return t;
}

} // namespace ocr::protocol::token_detail
