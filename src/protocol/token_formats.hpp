// SPDX-License-Identifier: MIT
// Internal: one factory per token format, used by make_token_encoder/make_token_decoder.
#pragma once

#include "protocol/token_codec.hpp"

#include <memory>

namespace ocr::protocol::token_detail {

/// @brief Plain tokens (token_simple.cpp).
[[nodiscard]] std::unique_ptr<TokenEncoder> make_simple_encoder(ByteSink& out);
[[nodiscard]] std::unique_ptr<TokenDecoder> make_simple_decoder();

/// @brief zlib and zlibx (token_deflate.cpp).
[[nodiscard]] std::unique_ptr<TokenEncoder> make_deflate_encoder(const TokenSettings& settings,
                                                                 ByteSink& out);
[[nodiscard]] std::unique_ptr<TokenDecoder> make_deflate_decoder(const TokenSettings& settings);

/// @brief zstd (token_zstd.cpp).
[[nodiscard]] std::unique_ptr<TokenEncoder> make_zstd_encoder(const TokenSettings& settings,
                                                              ByteSink& out);
[[nodiscard]] std::unique_ptr<TokenDecoder> make_zstd_decoder();

/// @brief lz4 (token_lz4.cpp).
[[nodiscard]] std::unique_ptr<TokenEncoder> make_lz4_encoder(ByteSink& out);
[[nodiscard]] std::unique_ptr<TokenDecoder> make_lz4_decoder();

} // namespace ocr::protocol::token_detail
