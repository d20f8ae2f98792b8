// SPDX-License-Identifier: MIT
#include "protocol/server_setup.hpp"

#include <gtest/gtest.h>

namespace ocr::protocol {
namespace {

// Verifies the setup bytes upstream's daemon sent a 3.5.0 client for `rsync -av` (captured
// with scripts/wiretap.py): varint flags 0x1FF, the checksum list, then the seed.
TEST(ServerSetup, MatchesUpstreamCapture)
{
    ServerSetupInputs in;
    in.send_compat_flags = true;
    in.compat_flags = 0x1FF;
    in.checksum_list = std::string(kChecksumNameList);
    in.seed = 0x6b033a0a;
    const std::string expected = std::string("\x81\xff", 2) + "#xxh128 xxh3 xxh64 md5 md4 sha1 none" +
                                 std::string("\x0a\x3a\x03\x6b", 4);
    EXPECT_EQ(encode_server_setup(in), expected);
}

// Verifies that below protocol 30 (no flags, no lists) only the seed is sent, and that the
// pre-release byte form writes flags above 0x7F as one byte.
TEST(ServerSetup, SeedOnlyAndByteFlags)
{
    ServerSetupInputs old;
    old.seed = 1;
    EXPECT_EQ(encode_server_setup(old), std::string("\x01\x00\x00\x00", 4));
    ServerSetupInputs v;
    v.send_compat_flags = true;
    v.compat_flags_as_byte = true;
    v.compat_flags = 0x8E;
    v.compress_list = "zlib";
    EXPECT_EQ(encode_server_setup(v), std::string("\x8e\x04zlib\x00\x00\x00\x00", 10));
}

} // namespace
} // namespace ocr::protocol
