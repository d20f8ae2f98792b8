// SPDX-License-Identifier: MIT
// The encoder's call sequencing shared by every format, and the per-format factories.
#include "protocol/token_codec.hpp"

#include "protocol/token_formats.hpp"

#include <stdexcept>

namespace ocr::protocol {

void TokenEncoder::begin_file(bool skip_compress)
{
    if (in_file_)
        throw std::logic_error("TokenEncoder::begin_file: previous file not ended");
    in_file_ = true;
    pending_.clear();
    start_file(skip_compress);
}

void TokenEncoder::literal(std::span<const std::byte> data)
{
    if (!in_file_)
        throw std::logic_error("TokenEncoder::literal outside a file");
    if (data.empty())
        return;
    // Upstream sends data that is not followed by a token with token -2: the compressors
    // keep going without a flush; only data right before a token or the end gets one.
    if (!pending_.empty()) {
        send(kDataOnly, pending_, {});
        pending_.clear();
    }
    pending_.assign(data.begin(), data.end());
}

void TokenEncoder::block(std::int32_t index, std::span<const std::byte> block_data)
{
    if (!in_file_)
        throw std::logic_error("TokenEncoder::block outside a file");
    if (index < 0 || index > kMaxTokenIndex)
        throw std::invalid_argument("TokenEncoder::block: bad block index");
    send(index, pending_, block_data);
    pending_.clear();
}

void TokenEncoder::end_file()
{
    if (!in_file_)
        throw std::logic_error("TokenEncoder::end_file outside a file");
    send(kEndOfFile, pending_, {});
    pending_.clear();
    in_file_ = false;
}

void TokenEncoder::step(std::span<const std::byte> literal, std::int32_t index, std::span<const std::byte> block_data)
{
    if (!in_file_)
        throw std::logic_error("TokenEncoder::step outside a file");
    if (index < kStepDataOnly || index > kMaxTokenIndex)
        throw std::invalid_argument("TokenEncoder::step: bad block index");
    if (index == kStepDataOnly && literal.empty())
        return; // literal() ignores empty data too
    if (!pending_.empty()) {
        // What literal() kept is followed by more data, like literal() itself would send it.
        if (!literal.empty() || index == kStepDataOnly) {
            send(kDataOnly, pending_, {});
            pending_.clear();
        } else {
            // No new data: the kept data goes out with this token.
            send(index, pending_, block_data);
            pending_.clear();
            if (index == kStepEndOfFile)
                in_file_ = false;
            return;
        }
    }
    send(index, literal, block_data);
    if (index == kStepEndOfFile)
        in_file_ = false;
}

std::unique_ptr<TokenEncoder> make_token_encoder(const TokenSettings& settings, ByteSink& out)
{
    switch (settings.compression) {
    case Compression::None: return token_detail::make_simple_encoder(out);
    case Compression::Zlib:
    case Compression::Zlibx: return token_detail::make_deflate_encoder(settings, out);
    case Compression::Zstd: return token_detail::make_zstd_encoder(settings, out);
    case Compression::Lz4: return token_detail::make_lz4_encoder(out);
    }
    throw std::invalid_argument("make_token_encoder: unknown compression");
}

std::unique_ptr<TokenDecoder> make_token_decoder(const TokenSettings& settings)
{
    switch (settings.compression) {
    case Compression::None: return token_detail::make_simple_decoder();
    case Compression::Zlib:
    case Compression::Zlibx: return token_detail::make_deflate_decoder(settings);
    case Compression::Zstd: return token_detail::make_zstd_decoder();
    case Compression::Lz4: return token_detail::make_lz4_decoder();
    }
    throw std::invalid_argument("make_token_decoder: unknown compression");
}

} // namespace ocr::protocol
