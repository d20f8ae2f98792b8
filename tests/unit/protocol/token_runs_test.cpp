// SPDX-License-Identifier: MIT
// Block references in compressed token streams: run flags on the wire and their bounds.
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/token_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

using namespace std::string_literals;

std::string le32(std::int32_t v)
{
    std::string s(4, '\0');
    const auto u = static_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i)
        s[static_cast<std::size_t>(i)] = static_cast<char>((u >> (8 * i)) & 0xFF);
    return s;
}

const std::vector<Compression> kCompressed{Compression::Zlibx, Compression::Zstd, Compression::Lz4};

// The blocks of one file, in order, sent without literal data (zlibx needs no block bytes).
std::string encode_blocks(Compression c, const std::vector<std::int32_t>& blocks)
{
    MemorySink sink;
    const auto enc = make_token_encoder({c, c == Compression::Zstd ? 3 : 6, 32}, sink);
    enc->begin_file();
    for (std::int32_t b : blocks)
        enc->block(b, {});
    enc->end_file();
    return sink.bytes();
}

// Reads every token of one file; throws what the decoder throws.
std::vector<std::int32_t> decode_blocks(Compression c, const std::string& wire, BlockLayout layout)
{
    const auto dec = make_token_decoder({c, 0, 32});
    dec->begin_file(layout);
    MemorySource in(wire);
    std::vector<std::int32_t> out;
    for (Token t = dec->next(in); t.kind != Token::Kind::End; t = dec->next(in)) {
        EXPECT_EQ(t.kind, Token::Kind::Block);
        out.push_back(t.block);
    }
    EXPECT_EQ(in.remaining(), 0u);
    return out;
}

// Verifies upstream's run encoding byte for byte: a run of three from 0 (relative, count 2),
// a relative single, a long single (distance > 63), a backwards jump (negative distance).
TEST(TokenRuns, FlagBytes)
{
    const std::vector<std::int32_t> blocks{0, 1, 2, 10, 100, 99};
    const std::string expected = "\xC0\x02\x00"s + "\x88"s + "\x20"s + le32(100) + "\x20"s + le32(99) + "\x00"s;
    for (Compression c : kCompressed) {
        EXPECT_EQ(encode_blocks(c, blocks), expected) << compression_name(c);
        EXPECT_EQ(decode_blocks(c, expected, {200, 10, 0}), blocks) << compression_name(c);
    }
}

// Verifies that a run is cut after 65536 blocks (its count is 16 bits) and that a long run
// start uses TOKENRUN_LONG.
TEST(TokenRuns, LongRunsAreSplit)
{
    std::vector<std::int32_t> blocks;
    for (std::int32_t i = 100; i < 100 + 70000; ++i)
        blocks.push_back(i);
    const std::string expected = "\x21"s + le32(100) + "\xFF\xFF"s + // 100 .. 65635
                                 "\xC1"s + "\x6F\x11"s +             // 65636 = 65635 + 1, 4463 more
                                 "\x00"s;
    for (Compression c : kCompressed) {
        EXPECT_EQ(encode_blocks(c, blocks), expected) << compression_name(c);
        EXPECT_EQ(decode_blocks(c, expected, {200000, 1, 0}), blocks) << compression_name(c);
    }
}

// Verifies that the relative distance counts from the end of the previous run and that any
// flag 0x01..0x3F is a long token (bit 0 = run), as upstream's reader accepts them.
TEST(TokenRuns, ReaderAcceptsUpstreamsFlagRange)
{
    const std::string wire = "\x02"s + le32(5) + "\x03"s + le32(7) + "\x01\x00"s + "\x81"s + "\x00"s;
    for (Compression c : kCompressed)
        EXPECT_EQ(decode_blocks(c, wire, {20, 1, 0}), (std::vector<std::int32_t>{5, 7, 8, 9})) << compression_name(c);
}

void expect_invalid(const std::string& wire, BlockLayout layout, const char* message)
{
    for (Compression c : kCompressed) {
        try {
            (void)decode_blocks(c, wire, layout);
            ADD_FAILURE() << compression_name(c) << ": no error";
        } catch (const ProtocolError& e) {
            EXPECT_EQ(e.code(), ExitCode::Protocol) << compression_name(c);
            EXPECT_STREQ(e.what(), message) << compression_name(c);
        }
    }
}

// Verifies the CVE-2026-43618 bounds: no block number may leave 0..0x7FFFFFFE, whether read
// whole, reached by relative steps, or reached at the end of a run; a run count of 0 is
// invalid too.
TEST(TokenRuns, NumbersAreBounded)
{
    const BlockLayout all{INT32_MAX, 1, 0};
    const char* invalid = "invalid token number in compressed stream";
    expect_invalid("\x20"s + le32(-1), all, invalid);
    expect_invalid("\x20"s + le32(INT32_MAX), all, invalid);
    expect_invalid("\x20"s + le32(0x7FFFFFFE) + "\x81"s, all, invalid);
    expect_invalid("\x21"s + le32(0x7FFFFFF0) + "\x10\x00"s, all, invalid);
    expect_invalid("\xC5\x00\x00"s, all, invalid);
    expect_invalid("\x21"s + le32(3) + "\x00\x00"s, all, invalid);
    // In range for the format, out of range for this file.
    expect_invalid("\xC2\x05\x00"s, {6, 1, 0}, "Invalid block index 6 (count=6) [receiver]");
    expect_invalid("\x80"s, {0, 0, 0}, "Invalid block index 0 (count=0) [receiver]");
}

// Verifies that the largest block numbers the format allows still work end to end.
TEST(TokenRuns, TopOfTheRange)
{
    const std::vector<std::int32_t> blocks{0x7FFFFFFC, 0x7FFFFFFD, 0x7FFFFFFE};
    for (Compression c : kCompressed)
        EXPECT_EQ(decode_blocks(c, encode_blocks(c, blocks), {INT32_MAX, 1, 0}), blocks) << compression_name(c);
}

// Verifies that each file starts counting afresh: the second file's relative flags are
// relative to block 0 again, on both sides.
TEST(TokenRuns, StateResetsPerFile)
{
    for (Compression c : kCompressed) {
        MemorySink sink;
        const auto enc = make_token_encoder({c, c == Compression::Zstd ? 3 : 6, 32}, sink);
        for (int file = 0; file < 2; ++file) {
            enc->begin_file();
            enc->block(50, {});
            enc->block(52, {});
            enc->end_file();
        }
        const std::string one = "\xB2\x82\x00"s; // 50 from 0, then 52 from 50
        EXPECT_EQ(sink.bytes(), one + one) << compression_name(c);
        const auto dec = make_token_decoder({c, 0, 32});
        MemorySource in(sink.bytes());
        for (int file = 0; file < 2; ++file) {
            dec->begin_file({60, 1, 0});
            EXPECT_EQ(dec->next(in).block, 50);
            EXPECT_EQ(dec->next(in).block, 52);
            EXPECT_EQ(dec->next(in).kind, Token::Kind::End);
        }
    }
}

} // namespace
} // namespace ocr::protocol
