// SPDX-License-Identifier: MIT
#include "protocol/ndx.hpp"

#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

std::string hex(const std::string& s)
{
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        if (!out.empty())
            out += ' ';
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string encode(int protocol, const std::vector<std::int32_t>& values)
{
    NdxEncoder enc(protocol);
    std::string out;
    for (const std::int32_t v : values)
        enc.put(out, v);
    return out;
}

std::vector<std::int32_t> decode(int protocol, const std::string& bytes)
{
    MemorySource in(bytes);
    NdxDecoder dec(protocol);
    std::vector<std::int32_t> out;
    while (in.remaining() > 0)
        out.push_back(dec.get(in));
    return out;
}

// Verifies the protocol-30 forms as upstream io.c:write_ndx produces them: one-byte deltas,
// the 0xFE two-byte delta, the 0xFE absolute form with the high bit as marker, a lone zero for
// NDX_DONE, and 0xFF before negative values with their own running state.
TEST(Ndx, DeltaFormsMatchUpstream)
{
    EXPECT_EQ(hex(encode(30, {0, 1, 5})), "01 01 04");
    EXPECT_EQ(hex(encode(30, {kNdxDone})), "00");
    EXPECT_EQ(hex(encode(30, {299})), "fe 01 2c");            // delta 300 from -1
    EXPECT_EQ(hex(encode(30, {100000})), "fe 80 a0 86 01");   // delta too big
    EXPECT_EQ(hex(encode(30, {10, 9})), "0b fe 80 09 00 00"); // going back is absolute
    EXPECT_EQ(hex(encode(30, {5, 5})), "06 fe 00 00");        // delta 0 uses the long form
    EXPECT_EQ(hex(encode(30, {kNdxFlistEof})), "ff 01");
    EXPECT_EQ(hex(encode(30, {kNdxFlistOffset - 1, kNdxFlistOffset - 3})), "ff 65 ff 02");
    EXPECT_EQ(hex(encode(30, {3, kNdxDone, 4})), "04 00 01"); // NDX_DONE leaves the state
}

// Verifies that below protocol 30 every index is a plain little-endian int32.
TEST(Ndx, Protocol29IsInt32)
{
    EXPECT_EQ(hex(encode(29, {5, kNdxDone, kNdxFlistOffset})),
              "05 00 00 00 ff ff ff ff 9b ff ff ff");
    EXPECT_EQ(decode(29, encode(29, {7, -1, std::numeric_limits<std::int32_t>::min() + 1})),
              (std::vector<std::int32_t>{7, -1, std::numeric_limits<std::int32_t>::min() + 1}));
}

// Verifies that arbitrary sequences, including both extremes and alternating signs, decode to
// what was encoded.
TEST(Ndx, RoundTripsAnySequence)
{
    const std::vector<std::int32_t> values = {
        0,  1,    2,    255,         254, 253, 0x7FFF, 0x8000,  0x7FFFFFFF, 0,  -1, -2,
        -3, -101, -102, -0x7FFFFFFF, -5,  17,  16,     1000000, 999999,     -1, 42};
    for (const int protocol : {29, 30, 31, 32})
        EXPECT_EQ(decode(protocol, encode(protocol, values)), values) << protocol;
}

// Verifies that an encoder and a decoder keep separate state: a stream's reader is not
// disturbed by what the same side writes.
TEST(Ndx, StatePerDirection)
{
    NdxEncoder out(31);
    std::string sent;
    out.put(sent, 100);
    NdxDecoder in(31);
    const std::string bytes("\x05", 1);
    MemorySource src(bytes);
    EXPECT_EQ(in.get(src), 4); // -1 + 5: the decoder never saw the encoder's 100
}

// Verifies that a decoded magnitude above INT32_MAX is refused with upstream's text.
TEST(Ndx, RejectsIndexesBeyondInt32)
{
    // Absolute 0x7FFFFFFF, then +1.
    const std::string bytes("\xfe\xff\xff\xff\xff\x01", 6);
    MemorySource in(bytes);
    NdxDecoder dec(32, "sender");
    EXPECT_EQ(dec.get(in), 0x7FFFFFFF);
    try {
        (void)dec.get(in);
        FAIL() << "accepted an overflowing index";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Protocol);
        EXPECT_STREQ(e.what(), "Invalid file index: 2147483648 [sender]");
    }
}

// Verifies that a truncated index is an end-of-stream error and INT32_MIN cannot be written.
TEST(Ndx, TruncationAndUnencodable)
{
    const std::string bytes("\xfe\x01", 2);
    MemorySource in(bytes);
    NdxDecoder dec(30);
    EXPECT_THROW((void)dec.get(in), ProtocolError);
    NdxEncoder enc(30);
    std::string out;
    EXPECT_THROW(enc.put(out, std::numeric_limits<std::int32_t>::min()), std::invalid_argument);
}

// Verifies the sub-list header arithmetic and upstream's range errors for both places a
// header can arrive.
TEST(Ndx, SubListHeaders)
{
    EXPECT_EQ(flist_header_ndx(0), -101);
    EXPECT_EQ(flist_header_ndx(5), -106);
    EXPECT_THROW((void)flist_header_ndx(-1), std::invalid_argument);
    EXPECT_EQ(dir_ndx_from_header(-101, 1, "receiver"), 0);
    EXPECT_EQ(dir_ndx_from_header(-106, 6, "receiver"), 5);
    try {
        (void)dir_ndx_from_header(-106, 5, "receiver");
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Protocol);
        EXPECT_STREQ(e.what(), "Invalid dir index: -106 (-101 - -105) [receiver]");
    }
    try {
        (void)dir_ndx_from_header(-50, 3, "Receiver", HeaderSite::AdditionalList);
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "[Receiver] Invalid dir index: -50 (-101 - -103)");
    }
    EXPECT_THROW((void)dir_ndx_from_header(std::numeric_limits<std::int32_t>::min(), 10, "r"),
                 ProtocolError);
}

} // namespace
} // namespace ocr::protocol
