// SPDX-License-Identifier: MIT
#include "protocol/wire.hpp"

#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

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

std::string varint(std::int32_t v)
{
    std::string out;
    put_varint(out, v);
    return hex(out);
}

std::string varlong(std::int64_t v, int min)
{
    std::string out;
    put_varlong(out, v, min);
    return hex(out);
}

// Verifies that varints match the byte layouts verified against rsync 3.5.0.
TEST(Wire, VarintKnownLayouts)
{
    EXPECT_EQ(varint(5), "05");
    EXPECT_EQ(varint(0x80), "80 80");
    EXPECT_EQ(varint(0x1234), "92 34");
    EXPECT_EQ(varint(0x1FA), "81 fa");
    EXPECT_EQ(varint(-1), "f0 ff ff ff ff");
    EXPECT_EQ(varint(0), "00");
}

// Verifies that varlongs match the byte layouts verified against rsync 3.5.0.
TEST(Wire, VarlongKnownLayouts)
{
    EXPECT_EQ(varlong(5, 3), "00 05 00");
    EXPECT_EQ(varlong(0x01000000, 3), "81 00 00 00");
    EXPECT_EQ(varlong(1700000000, 4), "65 00 f1 53");
}

// Verifies that every encoder round-trips through its decoder over a range of values.
TEST(Wire, RoundTrips)
{
    const std::int64_t samples[] = {0, 1, 127, 128, 255, 256, 0x3FFF, 0x4000, 0x7FFFFFFF,
                                    0x80000000LL, 0xFFFFFFFFLL, 0x100000000LL,
                                    std::numeric_limits<std::int64_t>::max(), -1, -2,
                                    std::numeric_limits<std::int64_t>::min()};
    for (std::int64_t v : samples) {
        for (int min = 3; min <= 8; ++min) {
            std::string out;
            put_varlong(out, v, min);
            MemorySource in(out);
            EXPECT_EQ(get_varlong(in, min), v) << "value " << v << " min " << min;
            EXPECT_EQ(in.remaining(), 0u);
        }
        std::string out;
        put_varint(out, static_cast<std::int32_t>(v));
        put_i32(out, static_cast<std::int32_t>(v));
        put_longint(out, v);
        MemorySource in(out);
        EXPECT_EQ(get_varint(in), static_cast<std::int32_t>(v));
        EXPECT_EQ(get_i32(in), static_cast<std::int32_t>(v));
        EXPECT_EQ(get_longint(in), v);
        EXPECT_EQ(in.remaining(), 0u);
    }
}

// Verifies that vstrings use one length byte below 128 and two from 128, and are bounded on read.
TEST(Wire, VstringLengths)
{
    std::string out;
    put_vstring(out, "md5");
    EXPECT_EQ(hex(out), "03 6d 64 35");
    out.clear();
    put_vstring(out, std::string(300, 'x'));
    EXPECT_EQ(hex(out.substr(0, 2)), "81 2c");
    MemorySource in(out);
    EXPECT_THROW((void)get_vstring(in, 100), ProtocolError);
    MemorySource again(out);
    EXPECT_EQ(get_vstring(again, 300).size(), 300u);
    std::string too_long(kMaxVstringLength + 1, 'y');
    std::string sink;
    EXPECT_THROW(put_vstring(sink, too_long), std::length_error);
}

// Verifies that truncated input and overlong varint lead bytes are stream errors, not UB.
TEST(Wire, MalformedInputIsRejected)
{
    const std::string truncated("\x81", 1);
    MemorySource a(truncated);
    EXPECT_THROW((void)get_varint(a), ProtocolError);
    const std::string overlong("\xf8\x00\x00\x00\x00\x00", 6);
    MemorySource b(overlong);
    EXPECT_THROW((void)get_varint(b), ProtocolError);
    const std::string short_i32("\x01\x02", 2);
    MemorySource c(short_i32);
    EXPECT_THROW((void)get_i32(c), ProtocolError);
}

} // namespace
} // namespace ocr::protocol
