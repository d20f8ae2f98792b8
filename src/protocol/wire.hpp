// SPDX-License-Identifier: MIT
// rsync's integer and string encodings (upstream io.c write_*/read_*), as pure functions.
#pragma once

#include "protocol/byte_stream.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ocr::protocol {

/// Longest vstring the format can carry (two length bytes, top bit used as a marker).
inline constexpr std::size_t kMaxVstringLength = 0x7FFF;

// --- Encoders: append the wire form to a byte string. ---------------------------------

void put_byte(std::string& out, std::uint8_t v);
/// @brief 2-byte little-endian unsigned ("shortint").
void put_u16(std::string& out, std::uint16_t v);
/// @brief 4-byte little-endian signed int.
void put_i32(std::string& out, std::int32_t v);
/// @brief Protocol < 30 64-bit form: int32 if it fits in 0..0x7FFFFFFF, else 0xFFFFFFFF + 8 bytes.
void put_longint(std::string& out, std::int64_t v);
/// @brief Protocol >= 30 variable-length 32-bit int.
void put_varint(std::string& out, std::int32_t v);
/// @brief Protocol >= 30 variable-length 64-bit int sending at least @p min_bytes bytes (3..8;
///        upstream uses 3 for sizes and 4 for times, and smaller minimums cannot carry 64 bits).
void put_varlong(std::string& out, std::int64_t v, int min_bytes);
/// @brief Length-prefixed string (1 or 2 length bytes).
/// @throw std::length_error if @p s is longer than kMaxVstringLength.
void put_vstring(std::string& out, std::string_view s);

// --- Decoders: read from a blocking source; throw ProtocolError(StreamIo) on bad data. -

[[nodiscard]] std::uint8_t get_byte(ByteSource& in);
[[nodiscard]] std::uint16_t get_u16(ByteSource& in);
[[nodiscard]] std::int32_t get_i32(ByteSource& in);
[[nodiscard]] std::int64_t get_longint(ByteSource& in);
[[nodiscard]] std::int32_t get_varint(ByteSource& in);
[[nodiscard]] std::int64_t get_varlong(ByteSource& in, int min_bytes);
/// @brief Reads a vstring, refusing one longer than @p max_len.
[[nodiscard]] std::string get_vstring(ByteSource& in, std::size_t max_len);

} // namespace ocr::protocol
