// SPDX-License-Identifier: MIT
#include "protocol/mux.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace ocr::protocol {
namespace {

// Verifies the MSG_ERROR frame bytes seen on the wire from upstream's daemon (len 58, tag 3).
TEST(Mux, ErrorFrameMatchesUpstreamCapture)
{
    const std::string text = "rsync: The server is configured to refuse --compress (-z)\n";
    const std::string frame = encode_frame(MsgCode::Error, text);
    ASSERT_EQ(frame.size(), 4 + text.size());
    EXPECT_EQ(frame.substr(0, 4), std::string("\x3a\x00\x00\x0a", 4));
}

// Verifies that headers decode back and that tags below the base are not frames.
TEST(Mux, HeaderRoundTrip)
{
    const std::string h = encode_frame_header(MsgCode::Data, 0x123456);
    const auto* b = reinterpret_cast<const std::uint8_t*>(h.data());
    auto decoded = decode_frame_header(b);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->code, MsgCode::Data);
    EXPECT_EQ(decoded->length, 0x123456u);
    const std::uint8_t raw[4] = {1, 0, 0, 6};
    EXPECT_FALSE(decode_frame_header(raw));
    EXPECT_THROW((void)encode_frame_header(MsgCode::Data, kMaxFramePayload + 1), std::length_error);
    EXPECT_EQ(error_tag_for(29), MsgCode::ErrorXfer);
    EXPECT_EQ(error_tag_for(30), MsgCode::Error);
}

} // namespace
} // namespace ocr::protocol
