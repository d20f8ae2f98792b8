// SPDX-License-Identifier: MIT
// zstd tokens (one stream per session) and lz4 tokens (independent blocks).
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/token_codec.hpp"

#include <gtest/gtest.h>
#include <lz4.h>
#include <zstd.h>

#include <random>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

using namespace std::string_literals;

std::span<const std::byte> bytes_of(std::string_view s)
{
    return std::as_bytes(std::span(s.data(), s.size()));
}

std::string text_of(std::size_t n)
{
    std::string s;
    for (std::size_t i = 0; s.size() < n; ++i)
        s += "line " + std::to_string(i * 7919 % 1000) + " of the token stream\n";
    s.resize(n);
    return s;
}

std::string literal_file(TokenEncoder& enc, MemorySink& sink, const std::string& data)
{
    const std::size_t before = sink.bytes().size();
    enc.begin_file();
    enc.literal(bytes_of(data));
    enc.end_file();
    return sink.bytes().substr(before);
}

std::string read_literals(TokenDecoder& dec, const std::string& wire, std::size_t max_piece = SIZE_MAX)
{
    dec.begin_file({});
    MemorySource in(wire);
    std::string out;
    for (Token t = dec.next(in); t.kind != Token::Kind::End; t = dec.next(in)) {
        EXPECT_EQ(t.kind, Token::Kind::Literal);
        EXPECT_LE(t.data.size(), max_piece);
        out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
    }
    EXPECT_EQ(in.remaining(), 0u);
    return out;
}

// Verifies that the zstd stream runs across files: the second file refers back to the first,
// so only the session's decoder can read it, and it costs far less than the first.
TEST(ZstdTokens, StreamSpansTheSession)
{
    const TokenSettings zstd{Compression::Zstd, 3, 32};
    const std::string data = text_of(60000) + std::string(1, '\x01');
    MemorySink sink;
    const auto enc = make_token_encoder(zstd, sink);
    const std::string first = literal_file(*enc, sink, data);
    const std::string second = literal_file(*enc, sink, data);
    EXPECT_LT(second.size(), first.size() / 4);

    const auto session = make_token_decoder(zstd);
    EXPECT_EQ(read_literals(*session, first), data);
    EXPECT_EQ(read_literals(*session, second), data);

    const auto fresh = make_token_decoder(zstd);
    std::string got;
    try {
        got = read_literals(*fresh, second);
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::StreamIo);
        got = "error";
    }
    EXPECT_NE(got, data);
}

// Verifies that a zstd chunk expanding to megabytes comes out in bounded pieces.
TEST(ZstdTokens, LargeExpansionIsChunked)
{
    const std::string zeros(8'000'000, '\0');
    std::string frame(ZSTD_compressBound(zeros.size()), '\0');
    const std::size_t n = ZSTD_compress(frame.data(), frame.size(), zeros.data(), zeros.size(), 19);
    ASSERT_FALSE(ZSTD_isError(n));
    ASSERT_LT(n, 16383u);
    const std::string wire = std::string{static_cast<char>(0x40 | (n >> 8)), static_cast<char>(n & 0xFF)} +
                             frame.substr(0, n) + "\x00"s;
    const auto dec = make_token_decoder({Compression::Zstd, 0, 32});
    EXPECT_EQ(read_literals(*dec, wire, ZSTD_DStreamOutSize()), zeros);
}

// Verifies that bytes that are not zstd are a StreamIo error.
TEST(ZstdTokens, BadDataIsAnError)
{
    const auto dec = make_token_decoder({Compression::Zstd, 0, 32});
    try {
        (void)read_literals(*dec, "\x40\x04\x01\x02\x03\x04\x00"s);
        FAIL() << "no error";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::StreamIo);
    }
}

// Verifies that lz4 chunks are independent blocks of at most 16383 bytes (incompressible
// input is split further until it fits), readable by any decoder.
TEST(Lz4Tokens, ChunksAreIndependentBlocks)
{
    std::mt19937 rng(5);
    std::string noise(50000, '\0');
    for (char& c : noise)
        c = static_cast<char>(rng() & 0xFF);
    const TokenSettings lz4{Compression::Lz4, 0, 32};
    MemorySink sink;
    const auto enc = make_token_encoder(lz4, sink);
    const std::string first = literal_file(*enc, sink, noise);
    const std::string second = literal_file(*enc, sink, noise);
    EXPECT_EQ(first, second);
    // Walk the chunks: every one decodes on its own.
    std::size_t pos = 0;
    std::string joined;
    while (static_cast<unsigned char>(first[pos]) != 0) {
        const auto flag = static_cast<unsigned char>(first[pos]);
        ASSERT_EQ(flag & 0xC0, 0x40);
        const std::size_t n = static_cast<std::size_t>(flag & 0x3F) << 8 | static_cast<unsigned char>(first[pos + 1]);
        std::string out(20000, '\0');
        const int got = LZ4_decompress_safe(first.data() + pos + 2, out.data(), static_cast<int>(n),
                                            static_cast<int>(out.size()));
        ASSERT_GT(got, 0);
        EXPECT_LE(got, 16383);
        joined += out.substr(0, static_cast<std::size_t>(got));
        pos += 2 + n;
    }
    EXPECT_EQ(joined, noise);
    const auto fresh = make_token_decoder(lz4);
    EXPECT_EQ(read_literals(*fresh, second), noise);
}

// Verifies that an lz4 block decoding to nothing is skipped; upstream's reader would take it
// for the end of the file (upstream's own sender can emit one after data-only tokens).
TEST(Lz4Tokens, EmptyBlockIsSkipped)
{
    std::string block(16, '\0');
    const int n = LZ4_compress_default("abc", block.data(), 3, static_cast<int>(block.size()));
    ASSERT_GT(n, 0);
    const std::string wire = "\x40\x01\x00"s + std::string{0x40, static_cast<char>(n)} +
                             block.substr(0, static_cast<std::size_t>(n)) + "\x40\x01\x00"s + "\x00"s;
    const auto dec = make_token_decoder({Compression::Lz4, 0, 32});
    EXPECT_EQ(read_literals(*dec, wire), "abc");
}

// Verifies that a block expanding past upstream's buffer (the bound of a 32 KiB input) and a
// corrupt block are StreamIo errors.
TEST(Lz4Tokens, OversizedOrCorruptBlockIsAnError)
{
    const std::string zeros(40000, '\0');
    std::string block(static_cast<std::size_t>(LZ4_compressBound(40000)), '\0');
    const int n = LZ4_compress_default(zeros.data(), block.data(), 40000, static_cast<int>(block.size()));
    ASSERT_GT(n, 0);
    ASSERT_LT(n, 16383);
    const std::string big = std::string{static_cast<char>(0x40 | (n >> 8)), static_cast<char>(n & 0xFF)} +
                            block.substr(0, static_cast<std::size_t>(n)) + "\x00"s;
    for (const std::string& wire : {big, "\x40\x03\xF0\xFF\xFF\x00"s}) {
        const auto dec = make_token_decoder({Compression::Lz4, 0, 32});
        try {
            (void)read_literals(*dec, wire);
            ADD_FAILURE() << "no error";
        } catch (const ProtocolError& e) {
            EXPECT_EQ(e.code(), ExitCode::StreamIo);
        }
    }
}

} // namespace
} // namespace ocr::protocol
