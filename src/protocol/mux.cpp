// SPDX-License-Identifier: MIT
// Frame header encoding: little-endian ((tag + 7) << 24 | length), upstream io.c:send_msg.
#include "protocol/mux.hpp"

#include <stdexcept>

namespace ocr::protocol {

std::string encode_frame_header(MsgCode code, std::size_t length)
{
    if (length > kMaxFramePayload)
        throw std::length_error("multiplexed frame payload too long");
    const std::uint32_t header =
        ((kMuxBase + static_cast<std::uint32_t>(code)) << 24) | static_cast<std::uint32_t>(length);
    std::string out(4, '\0');
    for (int i = 0; i < 4; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<char>((header >> (8 * i)) & 0xFF);
    return out;
}

std::optional<FrameHeader> decode_frame_header(const std::uint8_t bytes[4]) noexcept
{
    const std::uint32_t header = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) |
                                 (std::uint32_t{bytes[3]} << 24);
    const std::uint32_t tag = header >> 24;
    if (tag < kMuxBase)
        return std::nullopt;
    return FrameHeader{static_cast<MsgCode>(tag - kMuxBase), header & 0xFFFFFF};
}

std::string encode_frame(MsgCode code, std::string_view payload)
{
    std::string out = encode_frame_header(code, payload.size());
    out.append(payload);
    return out;
}

MsgCode error_tag_for(int protocol) noexcept
{
    return protocol >= 30 ? MsgCode::Error : MsgCode::ErrorXfer;
}

} // namespace ocr::protocol
