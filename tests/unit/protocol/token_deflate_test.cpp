// SPDX-License-Identifier: MIT
// zlib and zlibx tokens: sync-flush trailer, matched-block history, the protocol < 31 quirk.
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/token_codec.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <stdexcept>
#include <string>

namespace ocr::protocol {
namespace {

using namespace std::string_literals;

std::span<const std::byte> bytes_of(std::string_view s)
{
    return std::as_bytes(std::span(s.data(), s.size()));
}

std::string random_text(std::size_t n, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        s += static_cast<char>(rng() & 0xFF);
    return s;
}

// Block 0 of the basis is `block`; the file is block 0 followed by `literal`.
std::string encode_block_then(const TokenSettings& settings, const std::string& block, const std::string& literal)
{
    MemorySink sink;
    const auto enc = make_token_encoder(settings, sink);
    enc->begin_file();
    enc->block(0, bytes_of(block));
    enc->literal(bytes_of(literal));
    enc->end_file();
    return sink.bytes();
}

// Decodes such a file, feeding `history` for block 0.
std::string decode_block_then(const TokenSettings& settings, const std::string& wire, const std::string& history)
{
    const auto dec = make_token_decoder(settings);
    dec->begin_file({1, static_cast<std::int32_t>(history.size()), 0});
    MemorySource in(wire);
    std::string out;
    for (Token t = dec->next(in); t.kind != Token::Kind::End; t = dec->next(in)) {
        if (t.kind == Token::Kind::Block) {
            dec->see_block(bytes_of(history));
            out += history;
        } else {
            out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
        }
    }
    return out;
}

// Verifies that zlib (not zlibx) puts matched blocks into the compressor's history: literal
// data repeating a matched block costs almost nothing, and the receiver needs the same
// history to decode it.
TEST(DeflateTokens, ZlibHistoryIsShared)
{
    const std::string block = random_text(20000, 1);
    const TokenSettings zlib{Compression::Zlib, 6, 32};
    const TokenSettings zlibx{Compression::Zlibx, 6, 32};
    const std::string with = encode_block_then(zlib, block, block);
    const std::string without = encode_block_then(zlibx, block, block);
    EXPECT_LT(with.size(), 200u);
    EXPECT_GT(without.size(), 20000u);
    EXPECT_EQ(decode_block_then(zlib, with, block), block + block);
    EXPECT_EQ(decode_block_then(zlibx, without, block), block + block);
    // Wrong history: the back-references point at other bytes.
    const std::string zeros(block.size(), '\0');
    EXPECT_NE(decode_block_then(zlib, with, zeros), zeros + block);
}

// Verifies that below protocol 31 both ends feed the first 64 KiB of a longer block again
// for every 64 KiB piece (upstream's bug), and that the two protocol ranges really differ.
TEST(DeflateTokens, OldProtocolHistoryQuirk)
{
    const std::string block = random_text(70000, 2);
    // The literal repeats the block's tail, which only the >= 31 history holds.
    const std::string literal = block.substr(66000);
    const TokenSettings p30{Compression::Zlib, 6, 30};
    const TokenSettings p31{Compression::Zlib, 6, 31};
    const std::string wire30 = encode_block_then(p30, block, literal);
    const std::string wire31 = encode_block_then(p31, block, literal);
    EXPECT_EQ(decode_block_then(p30, wire30, block), block + literal);
    EXPECT_EQ(decode_block_then(p31, wire31, block), block + literal);
    EXPECT_GT(wire30.size(), 4000u); // the tail was not in the old history: sent in full
    EXPECT_LT(wire31.size(), 200u);
    std::string crossed;
    try {
        crossed = decode_block_then(p30, wire31, block);
    } catch (const ProtocolError&) {
        crossed = "error";
    }
    EXPECT_NE(crossed, block + literal);
}

// Verifies the sync-flush trailer: the data chunk before a token lacks the final 00 00 FF FF,
// and adding it back gives a raw deflate stream of the literal.
TEST(DeflateTokens, SyncTrailerIsLeftOff)
{
    const std::string literal = "hello hello hello hello";
    MemorySink sink;
    const auto enc = make_token_encoder({Compression::Zlibx, 6, 32}, sink);
    enc->begin_file();
    enc->literal(bytes_of(literal));
    enc->end_file();
    const std::string& wire = sink.bytes();
    ASSERT_GE(wire.size(), 4u);
    const auto first = static_cast<unsigned char>(wire[0]);
    ASSERT_EQ(first & 0xC0, 0x40);
    const std::size_t n = static_cast<std::size_t>(first & 0x3F) << 8 | static_cast<unsigned char>(wire[1]);
    ASSERT_EQ(wire.size(), n + 3);
    EXPECT_EQ(wire.back(), '\0');
    std::string data = wire.substr(2, n);
    EXPECT_NE(data.substr(data.size() - 4), "\x00\x00\xFF\xFF"s);
    data += "\x00\x00\xFF\xFF"s;

    z_stream z{};
    ASSERT_EQ(inflateInit2(&z, -15), Z_OK);
    std::string out(100, '\0');
    z.next_in = reinterpret_cast<Bytef*>(data.data());
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&z, Z_SYNC_FLUSH), Z_OK);
    out.resize(out.size() - z.avail_out);
    inflateEnd(&z);
    EXPECT_EQ(out, literal);
}

// Verifies that compressed data not ending in a sync flush is caught when a token follows.
TEST(DeflateTokens, LostSyncIsAnError)
{
    // A complete stored block "abc" (not final): inflate is past it, not inside a sync flush.
    const std::string wire = "\x40\x08"s + "\x00\x03\x00\xFC\xFF"s + "abc"s + "\x00"s;
    const auto dec = make_token_decoder({Compression::Zlibx, 0, 32});
    dec->begin_file({});
    MemorySource in(wire);
    const Token t = dec->next(in);
    ASSERT_EQ(t.kind, Token::Kind::Literal);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size()), "abc");
    try {
        (void)dec->next(in);
        FAIL() << "no error";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::StreamIo);
        EXPECT_STREQ(e.what(), "decompressor lost sync!");
    }
}

// Verifies that data that does not inflate is a StreamIo error, as is a final block.
TEST(DeflateTokens, BadDataIsAnError)
{
    for (const std::string& data : {"\x40\x02\xFF\xFF\x00"s, "\x40\x05\x01\x00\x00\xFF\xFF\x00"s}) {
        const auto dec = make_token_decoder({Compression::Zlib, 0, 32});
        dec->begin_file({});
        MemorySource in(data);
        try {
            (void)dec->next(in);
            FAIL() << "no error";
        } catch (const ProtocolError& e) {
            EXPECT_EQ(e.code(), ExitCode::StreamIo);
        }
    }
}

// Verifies that empty data chunks are harmless (skipped), before data and before tokens.
TEST(DeflateTokens, EmptyChunksAreSkipped)
{
    const std::string wire = "\x40\x00"s + "\x40\x00"s + "\x80"s + "\x00"s;
    const auto dec = make_token_decoder({Compression::Zlib, 0, 32});
    dec->begin_file({1, 3, 0});
    MemorySource in(wire);
    const Token t = dec->next(in);
    ASSERT_EQ(t.kind, Token::Kind::Block);
    dec->see_block(bytes_of("xyz"));
    EXPECT_EQ(dec->next(in).kind, Token::Kind::End);
}

// Verifies that zlib insists on the block's bytes before going on (its history would
// silently go wrong otherwise), while zlibx does not need them.
TEST(DeflateTokens, SeeBlockIsEnforcedForZlib)
{
    const std::string wire = "\x81\x81\x00"s;
    const BlockLayout layout{3, 4, 2};
    {
        const auto dec = make_token_decoder({Compression::Zlib, 0, 32});
        dec->begin_file(layout);
        MemorySource in(wire);
        const Token t = dec->next(in);
        EXPECT_EQ(t.block, 1);
        EXPECT_EQ(t.length, 4);
        EXPECT_THROW((void)dec->next(in), std::logic_error);
        EXPECT_THROW(dec->see_block(bytes_of("ab")), std::logic_error);
        dec->see_block(bytes_of("abcd"));
        EXPECT_THROW(dec->see_block(bytes_of("abcd")), std::logic_error);
        const Token last = dec->next(in);
        EXPECT_EQ(last.block, 2);
        EXPECT_EQ(last.length, 2);
        dec->see_block(bytes_of("ef"));
        EXPECT_EQ(dec->next(in).kind, Token::Kind::End);
    }
    {
        const auto dec = make_token_decoder({Compression::Zlibx, 0, 32});
        dec->begin_file(layout);
        MemorySource in(wire);
        EXPECT_EQ(dec->next(in).block, 1);
        EXPECT_EQ(dec->next(in).block, 2);
        EXPECT_EQ(dec->next(in).kind, Token::Kind::End);
    }
    MemorySink sink;
    const auto enc = make_token_encoder({Compression::Zlib, 6, 32}, sink);
    enc->begin_file();
    EXPECT_THROW(enc->block(0, {}), std::invalid_argument);
}

// Verifies that a skipped file goes out as stored blocks (level 0) and that the next file
// is compressed again.
TEST(DeflateTokens, SkipCompressStoresTheFile)
{
    const std::string text(50000, 'a');
    MemorySink sink;
    const auto enc = make_token_encoder({Compression::Zlibx, 6, 32}, sink);
    enc->begin_file(true);
    enc->literal(bytes_of(text));
    enc->end_file();
    const std::size_t stored = sink.bytes().size();
    enc->begin_file(false);
    enc->literal(bytes_of(text));
    enc->end_file();
    const std::size_t compressed = sink.bytes().size() - stored;
    EXPECT_GT(stored, text.size());
    EXPECT_LT(compressed, 1000u);
    const auto dec = make_token_decoder({Compression::Zlibx, 0, 32});
    MemorySource in(sink.bytes());
    for (int file = 0; file < 2; ++file) {
        dec->begin_file({});
        std::string out;
        for (Token t = dec->next(in); t.kind != Token::Kind::End; t = dec->next(in))
            out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
        EXPECT_EQ(out, text);
    }
}

// Verifies that a chunk which inflates to far more than the output buffer is handed out in
// bounded pieces.
TEST(DeflateTokens, LargeExpansionIsChunked)
{
    MemorySink sink;
    const auto enc = make_token_encoder({Compression::Zlibx, 9, 32}, sink);
    const std::string zeros(5'000'000, '\0');
    enc->begin_file();
    enc->literal(bytes_of(zeros));
    enc->end_file();
    const auto dec = make_token_decoder({Compression::Zlibx, 0, 32});
    dec->begin_file({});
    MemorySource in(sink.bytes());
    std::size_t total = 0;
    for (Token t = dec->next(in); t.kind != Token::Kind::End; t = dec->next(in)) {
        EXPECT_LE(t.data.size(), 64u * 1024);
        total += t.data.size();
    }
    EXPECT_EQ(total, zeros.size());
}

} // namespace
} // namespace ocr::protocol
