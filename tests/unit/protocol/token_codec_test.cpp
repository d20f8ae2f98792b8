// SPDX-License-Identifier: MIT
// The token encoder/decoder API for every format: round trips, plain-token bytes, misuse.
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/token_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

std::span<const std::byte> bytes_of(std::string_view s)
{
    return std::as_bytes(std::span(s.data(), s.size()));
}

std::string le32(std::int32_t v)
{
    std::string s(4, '\0');
    const auto u = static_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i)
        s[static_cast<std::size_t>(i)] = static_cast<char>((u >> (8 * i)) & 0xFF);
    return s;
}

// A basis of `count` blocks of `blength` bytes (the last one `remainder` bytes when non-zero).
struct Basis {
    BlockLayout layout;
    std::string data;

    [[nodiscard]] std::string_view block(std::int32_t i) const
    {
        return std::string_view(data).substr(static_cast<std::size_t>(i) * static_cast<std::size_t>(layout.length),
                                             static_cast<std::size_t>(layout.block_length(i)));
    }
};

Basis make_basis(std::int32_t count, std::int32_t blength, std::int32_t remainder, std::uint32_t seed)
{
    Basis b{{count, blength, remainder}, {}};
    std::mt19937 rng(seed);
    const std::size_t size = count == 0 ? 0
                                        : static_cast<std::size_t>(count - 1) * static_cast<std::size_t>(blength) +
                                              static_cast<std::size_t>(remainder != 0 ? remainder : blength);
    for (std::size_t i = 0; i < size; ++i)
        b.data += static_cast<char>("abcdefgh  \n"[rng() % 11]);
    return b;
}

// One file as the sender sees it: literal pieces and block numbers, in order.
struct Piece {
    bool is_block = false;
    std::string literal;
    std::int32_t block = 0;
};

std::string expected_file(const std::vector<Piece>& pieces, const Basis& basis)
{
    std::string out;
    for (const Piece& p : pieces)
        out += p.is_block ? std::string(basis.block(p.block)) : p.literal;
    return out;
}

void encode(TokenEncoder& enc, const std::vector<Piece>& pieces, const Basis& basis, bool skip = false)
{
    enc.begin_file(skip);
    for (const Piece& p : pieces) {
        if (p.is_block)
            enc.block(p.block, bytes_of(basis.block(p.block)));
        else
            enc.literal(bytes_of(p.literal));
    }
    enc.end_file();
}

std::string decode(TokenDecoder& dec, ByteSource& in, const Basis& basis)
{
    dec.begin_file(basis.layout);
    std::string out;
    for (;;) {
        const Token t = dec.next(in);
        if (t.kind == Token::Kind::End)
            return out;
        if (t.kind == Token::Kind::Literal) {
            out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
            continue;
        }
        EXPECT_EQ(t.length, basis.layout.block_length(t.block));
        dec.see_block(bytes_of(basis.block(t.block)));
        out += basis.block(t.block);
    }
}

std::vector<Piece> random_pieces(std::mt19937& rng, const Basis& basis, const std::string& text)
{
    std::vector<Piece> pieces;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
        if (basis.layout.count > 0 && rng() % 2 == 0) {
            // Runs of consecutive blocks are common; so are jumps back and far.
            std::int32_t start = static_cast<std::int32_t>(rng() % static_cast<std::uint32_t>(basis.layout.count));
            const int run = static_cast<int>(rng() % 4);
            for (int k = 0; k <= run && start < basis.layout.count; ++k, ++start)
                pieces.push_back(Piece{true, {}, start});
        } else {
            const std::size_t len = 1 + rng() % (rng() % 4 == 0 ? 80000 : 300);
            const std::size_t at = rng() % (text.size() - len);
            pieces.push_back(Piece{false, text.substr(at, len), 0});
        }
    }
    return pieces;
}

struct FormatCase {
    Compression compression;
    int level;
    int protocol;
};

class TokenFormats : public ::testing::TestWithParam<FormatCase> {
protected:
    [[nodiscard]] TokenSettings settings() const
    {
        return TokenSettings{GetParam().compression, GetParam().level, GetParam().protocol};
    }
};

// Verifies that random files (literal runs up to 80 KB, block runs, jumps) survive a round
// trip through encoder and decoder, with several files per session and skip levels mixed in.
TEST_P(TokenFormats, RandomSessionsRoundTrip)
{
    std::mt19937 rng(1234);
    std::string text;
    for (int i = 0; i < 200000; ++i)
        text += static_cast<char>(i % 7 == 0 ? rng() & 0xFF : "rsync tokens "[rng() % 13]);
    for (int session = 0; session < 6; ++session) {
        MemorySink sink;
        const auto enc = make_token_encoder(settings(), sink);
        std::vector<Basis> bases;
        std::vector<std::vector<Piece>> files;
        for (int f = 0; f < 5; ++f) {
            const std::int32_t count = static_cast<std::int32_t>(rng() % 40);
            const std::int32_t blength = session == 5 ? 70000 : static_cast<std::int32_t>(1 + rng() % 2000);
            const std::int32_t remainder = static_cast<std::int32_t>(rng() % static_cast<std::uint32_t>(blength));
            bases.push_back(make_basis(count, blength, remainder, rng()));
            files.push_back(random_pieces(rng, bases.back(), text));
            encode(*enc, files.back(), bases.back(), f % 3 == 1);
        }
        MemorySource in(sink.bytes());
        const auto dec = make_token_decoder(settings());
        for (std::size_t f = 0; f < files.size(); ++f)
            ASSERT_EQ(decode(*dec, in, bases[f]), expected_file(files[f], bases[f])) << "file " << f;
        EXPECT_EQ(in.remaining(), 0u);
    }
}

// Verifies that an empty file is just the end marker and decodes to nothing.
TEST_P(TokenFormats, EmptyFile)
{
    MemorySink sink;
    const auto enc = make_token_encoder(settings(), sink);
    enc->begin_file();
    enc->end_file();
    const std::string expected = settings().compression == Compression::None ? le32(0) : std::string(1, '\0');
    EXPECT_EQ(sink.bytes(), expected);
    MemorySource in(sink.bytes());
    const auto dec = make_token_decoder(settings());
    dec->begin_file({});
    EXPECT_EQ(dec->next(in).kind, Token::Kind::End);
}

// Verifies that a truncated stream ends in a StreamIo protocol error, not in garbage.
TEST_P(TokenFormats, TruncatedStreamIsAnError)
{
    MemorySink sink;
    const auto enc = make_token_encoder(settings(), sink);
    const Basis basis = make_basis(3, 100, 0, 7);
    encode(*enc, {Piece{false, std::string(5000, 'q'), 0}, Piece{true, {}, 1}}, basis);
    const std::string cut = sink.bytes().substr(0, sink.bytes().size() - 2);
    MemorySource in(cut);
    const auto dec = make_token_decoder(settings());
    try {
        (void)decode(*dec, in, basis);
        FAIL() << "no error";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::StreamIo);
    }
}

// Verifies that a block number at or past the count is rejected with upstream's message.
TEST_P(TokenFormats, BlockPastCountIsRejected)
{
    MemorySink sink;
    const auto enc = make_token_encoder(settings(), sink);
    const Basis big = make_basis(10, 50, 0, 3);
    encode(*enc, {Piece{true, {}, 7}}, big);
    const Basis small = make_basis(7, 50, 0, 3);
    MemorySource in(sink.bytes());
    const auto dec = make_token_decoder(settings());
    try {
        (void)decode(*dec, in, small);
        FAIL() << "no error";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Protocol);
        EXPECT_STREQ(e.what(), "Invalid block index 7 (count=7) [receiver]");
    }
}

// Verifies the guards against misuse of the encoder and decoder.
TEST_P(TokenFormats, MisuseIsRejected)
{
    MemorySink sink;
    const auto enc = make_token_encoder(settings(), sink);
    const std::string data = "x";
    EXPECT_THROW(enc->literal(bytes_of(data)), std::logic_error);
    EXPECT_THROW(enc->block(0, bytes_of(data)), std::logic_error);
    EXPECT_THROW(enc->end_file(), std::logic_error);
    enc->begin_file();
    EXPECT_THROW(enc->begin_file(), std::logic_error);
    EXPECT_THROW(enc->block(-1, bytes_of(data)), std::invalid_argument);
    EXPECT_THROW(enc->block(kMaxTokenIndex + 1, bytes_of(data)), std::invalid_argument);
    enc->end_file();

    const auto dec = make_token_decoder(settings());
    const std::string zeros(4, '\0');
    MemorySource in(zeros);
    EXPECT_THROW((void)dec->next(in), std::logic_error);
    EXPECT_THROW(dec->begin_file({-1, 10, 0}), std::invalid_argument);
    EXPECT_THROW(dec->begin_file({2, 10, 11}), std::invalid_argument);
    EXPECT_THROW(dec->begin_file({2, 0, 0}), std::invalid_argument);
    dec->begin_file({0, 0, 0});
    EXPECT_EQ(dec->next(in).kind, Token::Kind::End);
    EXPECT_THROW((void)dec->next(in), std::logic_error);
}

INSTANTIATE_TEST_SUITE_P(All, TokenFormats,
                         ::testing::Values(FormatCase{Compression::None, 0, 32},
                                           FormatCase{Compression::Zlib, 6, 32},
                                           FormatCase{Compression::Zlib, 1, 30},
                                           FormatCase{Compression::Zlib, 0, 31},
                                           FormatCase{Compression::Zlibx, 9, 32},
                                           FormatCase{Compression::Zstd, 3, 32},
                                           FormatCase{Compression::Zstd, -5, 31},
                                           FormatCase{Compression::Lz4, 0, 32}),
                         [](const ::testing::TestParamInfo<FormatCase>& p) {
                             return std::string(compression_name(p.param.compression)) + "_l" +
                                    std::to_string(p.param.level + 10) + "_p" +
                                    std::to_string(p.param.protocol);
                         });

// Verifies the plain-token bytes: int32 length + data, -(i+1) per block, 0 at the end.
TEST(SimpleTokens, ExactBytes)
{
    MemorySink sink;
    const auto enc = make_token_encoder({}, sink);
    const Basis basis = make_basis(5, 4, 0, 1);
    encode(*enc, {Piece{false, "abc", 0}, Piece{true, {}, 2}, Piece{true, {}, 3}}, basis);
    EXPECT_EQ(sink.bytes(), le32(3) + "abc" + le32(-3) + le32(-4) + le32(0));
}

// Verifies that literal data goes out in pieces of at most 32 KiB, as upstream sends it.
TEST(SimpleTokens, LiteralsAreChunked)
{
    MemorySink sink;
    const auto enc = make_token_encoder({}, sink);
    const std::string big(70000, 'z');
    encode(*enc, {Piece{false, big, 0}}, Basis{});
    const std::string expected = le32(32768) + big.substr(0, 32768) + le32(32768) + big.substr(0, 32768) +
                                 le32(4464) + big.substr(0, 4464) + le32(0);
    EXPECT_EQ(sink.bytes(), expected);
}

// Verifies that a peer's literal run longer than 32 KiB is accepted and handed out in pieces
// no larger than the decoder's buffer.
TEST(SimpleTokens, LongLiteralRunIsAccepted)
{
    const std::string data(100000, 'k');
    const std::string wire = le32(100000) + data + le32(0);
    MemorySource in(wire);
    const auto dec = make_token_decoder({});
    dec->begin_file({});
    std::size_t total = 0;
    for (Token t = dec->next(in); t.kind != Token::Kind::End; t = dec->next(in)) {
        ASSERT_EQ(t.kind, Token::Kind::Literal);
        EXPECT_LE(t.data.size(), kTokenChunkSize);
        total += t.data.size();
    }
    EXPECT_EQ(total, data.size());
}

// Verifies that the most negative int32 (block 2^31-1) is range-checked, not overflowed.
TEST(SimpleTokens, ExtremeBlockNumbersAreChecked)
{
    const std::string min_wire = le32(INT32_MIN);
    MemorySource in(min_wire);
    const auto dec = make_token_decoder({});
    dec->begin_file({3, 10, 0});
    try {
        (void)dec->next(in);
        FAIL() << "no error";
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "Invalid block index 2147483647 (count=3) [receiver]");
    }
    const std::string max_wire = le32(INT32_MAX);
    MemorySource huge(max_wire);
    dec->begin_file({3, 10, 0});
    EXPECT_THROW((void)dec->next(huge), ProtocolError); // announces 2 GiB, delivers none
}

// Verifies that data passed in several literal() calls (upstream's data-only tokens) comes
// back whole, and that only the last piece before a token is flushed: the same data sent in
// one call or in pieces decodes identically for every compressed format.
TEST(CompressedTokens, DataOnlyPiecesDecodeWhole)
{
    const Basis basis = make_basis(4, 1000, 0, 9);
    std::string text;
    for (int i = 0; i < 90000; ++i)
        text += static_cast<char>('a' + (i * 7 + i / 13) % 26);
    for (Compression c : {Compression::Zlib, Compression::Zlibx, Compression::Zstd, Compression::Lz4}) {
        MemorySink sink;
        const auto enc = make_token_encoder({c, c == Compression::Zstd ? 3 : 6, 32}, sink);
        enc->begin_file();
        enc->literal(bytes_of(std::string_view(text).substr(0, 32768)));
        enc->literal(bytes_of(std::string_view(text).substr(32768, 32768)));
        enc->literal(bytes_of(std::string_view(text).substr(65536)));
        enc->block(2, bytes_of(basis.block(2)));
        enc->end_file();
        MemorySource in(sink.bytes());
        const auto dec = make_token_decoder({c, 0, 32});
        EXPECT_EQ(decode(*dec, in, basis), text + std::string(basis.block(2))) << compression_name(c);
    }
}

} // namespace
} // namespace ocr::protocol
