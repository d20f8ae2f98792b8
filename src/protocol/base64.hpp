// SPDX-License-Identifier: MIT
// rsync's base64 encoding (standard alphabet, '=' padding optional) used by daemon auth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ocr::protocol {

/// @brief Number of characters base64_encode() produces for @p byte_count input bytes.
/// @param byte_count input length; must be below SIZE_MAX / 8.
/// @param pad whether '=' padding to a multiple of four is included.
[[nodiscard]] constexpr std::size_t base64_encoded_length(std::size_t byte_count,
                                                          bool pad = false) noexcept
{
    const std::size_t chars = (byte_count * 8 + 5) / 6;
    return pad ? (chars + 3) / 4 * 4 : chars;
}

/// @brief Encodes @p data with the standard alphabet (A-Z a-z 0-9 + /).
///
/// rsync's daemon challenge and response are sent without padding: the last group simply
/// ends after the character that holds the final input bits (Upstream:
/// authenticate.c:base64_encode with pad = 0). Pass @p pad = true for RFC 4648 output.
/// @param data bytes to encode.
/// @param pad append '=' until the length is a multiple of four.
/// @return the encoded text.
[[nodiscard]] std::string base64_encode(std::span<const std::uint8_t> data, bool pad = false);

/// @brief Convenience overload encoding the bytes of @p data.
[[nodiscard]] std::string base64_encode(std::string_view data, bool pad = false);

} // namespace ocr::protocol
