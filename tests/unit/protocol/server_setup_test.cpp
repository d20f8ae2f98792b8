// SPDX-License-Identifier: MIT
#include "protocol/server_setup.hpp"

#include <gtest/gtest.h>

namespace ocr::protocol {
namespace {

// Verifies the setup bytes upstream's daemon sent a 3.5.0 client for `rsync -av` (captured):
// flags 0x1FF, the checksum list, then the seed.
TEST(ServerSetup, MatchesUpstreamCaptureForFullClient)
{
    ServerSetupInputs in;
    in.protocol = 31;
    in.client_info = ".iLsfxCIvu";
    in.allow_inc_recurse = compute_allow_inc_recurse(true, false, true, false, false, false, false,
                                                     in.client_info);
    in.seed = 0x6b033a0a;
    const ServerSetup s = encode_server_setup(in);
    EXPECT_EQ(s.compat_flags, 0x1FF);
    EXPECT_TRUE(s.negotiated_strings);
    EXPECT_TRUE(s.client_sends_checksum_list);
    EXPECT_FALSE(s.client_sends_compress_list);
    const std::string expected = std::string("\x81\xff", 2) + "#xxh128 xxh3 xxh64 md5 md4 sha1 none" +
                                 std::string("\x0a\x3a\x03\x6b", 4);
    EXPECT_EQ(s.bytes, expected);
}

// Verifies that below protocol 30 only the seed is sent.
TEST(ServerSetup, OldProtocolSendsOnlySeed)
{
    ServerSetupInputs in;
    in.protocol = 29;
    in.client_info = ".iLsfxCIvu"; // ignored below 30
    in.seed = 1;
    const ServerSetup s = encode_server_setup(in);
    EXPECT_EQ(s.bytes, std::string("\x01\x00\x00\x00", 4));
    EXPECT_EQ(s.compat_flags, 0);
}

// Verifies the compression list goes only with compression and no explicit choice, and that a
// client without 'v' gets no lists (3.0/3.1 clients read one flag byte).
TEST(ServerSetup, NegotiationConditions)
{
    ServerSetupInputs in;
    in.protocol = 32;
    in.client_info = ".Lsfxv";
    in.compression_requested = true;
    EXPECT_TRUE(encode_server_setup(in).client_sends_compress_list);
    in.compress_choice_given = true;
    in.checksum_choice_given = true;
    const ServerSetup both_given = encode_server_setup(in);
    EXPECT_FALSE(both_given.client_sends_compress_list);
    EXPECT_FALSE(both_given.client_sends_checksum_list);
    in.client_info = ".iLsf";
    const ServerSetup old = encode_server_setup(in);
    EXPECT_FALSE(old.negotiated_strings);
    EXPECT_EQ(old.compat_flags, 0x0E); // symlink times, iconv, safe flist; no inc-recurse allowed
    EXPECT_EQ(old.bytes.size(), 1u + 4u);
}

// Verifies upstream's inc-recursion rule for a receiving server with delete-after.
TEST(ServerSetup, IncRecurseRules)
{
    EXPECT_TRUE(compute_allow_inc_recurse(true, false, false, false, false, false, false, ".i"));
    EXPECT_FALSE(compute_allow_inc_recurse(true, false, false, false, true, false, false, ".i"));
    EXPECT_TRUE(compute_allow_inc_recurse(true, false, true, false, true, false, false, ".i"));
    EXPECT_FALSE(compute_allow_inc_recurse(false, false, true, false, false, false, false, ".i"));
    EXPECT_FALSE(compute_allow_inc_recurse(true, false, true, false, false, false, false, ".L"));
}

} // namespace
} // namespace ocr::protocol
