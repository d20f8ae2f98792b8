// SPDX-License-Identifier: MIT
// Multiplexed-stream framing (upstream io.c send_msg / read_a_msg): 4-byte headers,
// data and out-of-band messages on one byte stream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::protocol {

/// @brief Message tags carried in frame headers (upstream rsync.h enum msgcode).
enum class MsgCode : std::uint8_t {
    Data = 0,
    ErrorXfer = 1,
    Info = 2,
    Error = 3,
    Warning = 4,
    ErrorSocket = 5,
    Log = 6,
    Client = 7,
    ErrorUtf8 = 8,
    Redo = 9,
    Stats = 10,
    IoError = 22,
    IoTimeout = 33,
    Noop = 42,
    ErrorExit = 86,
    Success = 100,
    Deleted = 101,
    NoSend = 102,
};

/// The header adds this to the tag (upstream MPLEX_BASE).
inline constexpr std::uint32_t kMuxBase = 7;
/// A frame's payload length field is 24 bits wide.
inline constexpr std::size_t kMaxFramePayload = 0xFFFFFF;

/// @brief A decoded frame header.
struct FrameHeader {
    MsgCode code;
    std::uint32_t length;
};

/// @brief Encodes a frame header for @p length payload bytes.
[[nodiscard]] std::string encode_frame_header(MsgCode code, std::size_t length);

/// @brief Decodes 4 header bytes; nullopt when the tag byte is below the base (not a frame).
[[nodiscard]] std::optional<FrameHeader> decode_frame_header(const std::uint8_t bytes[4]) noexcept;

/// @brief Header plus payload. @throw std::length_error if the payload does not fit a frame.
[[nodiscard]] std::string encode_frame(MsgCode code, std::string_view payload);

/// @brief The tag rsync uses for an error line at @p protocol: MSG_ERROR from 30, MSG_ERROR_XFER below
///        (upstream log.c: older peers only know the transfer-error tag).
[[nodiscard]] MsgCode error_tag_for(int protocol) noexcept;

} // namespace ocr::protocol
