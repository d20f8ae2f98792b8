// SPDX-License-Identifier: MIT
#include "protocol/compression.hpp"
#include "protocol/server_setup.hpp"

#include <gtest/gtest.h>
#include <zstd.h>

namespace ocr::protocol {
namespace {

// Verifies the names both ways, case-insensitively and only as whole names.
TEST(Compression, Names)
{
    EXPECT_EQ(compression_name(Compression::Zstd), "zstd");
    EXPECT_EQ(compression_name(Compression::Lz4), "lz4");
    EXPECT_EQ(compression_name(Compression::Zlibx), "zlibx");
    EXPECT_EQ(compression_name(Compression::Zlib), "zlib");
    EXPECT_EQ(compression_name(Compression::None), "none");
    EXPECT_EQ(compression_from_name("ZStd"), Compression::Zstd);
    EXPECT_EQ(compression_from_name("zlibX"), Compression::Zlibx);
    EXPECT_EQ(compression_from_name("NONE"), Compression::None);
    EXPECT_EQ(compression_from_name("zli"), std::nullopt);
    EXPECT_EQ(compression_from_name("zlibxx"), std::nullopt);
    EXPECT_EQ(compression_from_name(""), std::nullopt);
}

// Verifies the 3.5.0 choice: our most preferred name that the client lists, so a client
// that front-loads zlib still gets zstd (upstream desyncs such a client: checked against
// rsync 3.5.0 with RSYNC_COMPRESS_LIST="zlib zstd").
TEST(Compression, NegotiationServerPreference)
{
    EXPECT_EQ(choose_compression("zstd lz4 zlibx zlib", kCompressNameList), Compression::Zstd);
    EXPECT_EQ(choose_compression("zlib zstd", kCompressNameList), Compression::Zstd);
    EXPECT_EQ(choose_compression("zlib lz4", kCompressNameList), Compression::Lz4);
    EXPECT_EQ(choose_compression("  ZLIB   zlibx ", kCompressNameList), Compression::Zlibx);
    EXPECT_EQ(choose_compression("zlib", kCompressNameList), Compression::Zlib);
    EXPECT_EQ(choose_compression("none", kCompressNameList), Compression::None);
    EXPECT_EQ(choose_compression("brotli zlib", "zlib none"), Compression::Zlib);
    EXPECT_EQ(choose_compression("zstd lz4", "zlib none"), std::nullopt);
    EXPECT_EQ(choose_compression("", kCompressNameList), std::nullopt);
    // Only spaces separate names (upstream splits on ' ').
    EXPECT_EQ(choose_compression("zstd\tzlib", kCompressNameList), std::nullopt);
}

// Verifies the 3.2-3.4 choice: the client's first name that we know, which is what every
// client version picks too.
TEST(Compression, NegotiationClientPreference)
{
    const auto rule = NegotiationRule::ClientPreference;
    EXPECT_EQ(choose_compression("zlib zstd", kCompressNameList, rule), Compression::Zlib);
    EXPECT_EQ(choose_compression("brotli lz4 zstd", kCompressNameList, rule), Compression::Lz4);
    EXPECT_EQ(choose_compression("zstd lz4 zlibx zlib", kCompressNameList, rule), Compression::Zstd);
    EXPECT_EQ(choose_compression("zstd", "zlib", rule), std::nullopt);
}

// Verifies upstream's parse_compress_choice(1) order: negotiated, explicit, -z, nothing.
TEST(Compression, FinalChoice)
{
    EXPECT_EQ(final_compression(Compression::Lz4, "zlib", true), Compression::Lz4);
    EXPECT_EQ(final_compression(std::nullopt, "zlibx", true), Compression::Zlibx);
    EXPECT_EQ(final_compression(std::nullopt, "ZSTD", false), Compression::Zstd);
    EXPECT_EQ(final_compression(std::nullopt, "none", true), Compression::None);
    EXPECT_EQ(final_compression(std::nullopt, "bogus", true), std::nullopt);
    EXPECT_EQ(final_compression(std::nullopt, "auto", true), Compression::Zlib);
    EXPECT_EQ(final_compression(std::nullopt, std::nullopt, true), Compression::Zlib);
    EXPECT_EQ(final_compression(std::nullopt, std::nullopt, false), Compression::None);
}

// Verifies zlib's levels: unset and -1 mean 6, 0 turns compression off (upstream then
// sends plain tokens: checked against rsync 3.5.0 with --compress-level=0), the rest clamp.
TEST(Compression, ZlibLevels)
{
    for (Compression c : {Compression::Zlib, Compression::Zlibx}) {
        EXPECT_EQ(resolve_compression_level(c, kCompressLevelUnset), (CompressionSetting{c, 6}));
        EXPECT_EQ(resolve_compression_level(c, -1), (CompressionSetting{c, 6}));
        EXPECT_EQ(resolve_compression_level(c, 0), (CompressionSetting{Compression::None, 0}));
        EXPECT_EQ(resolve_compression_level(c, 1), (CompressionSetting{c, 1}));
        EXPECT_EQ(resolve_compression_level(c, 9), (CompressionSetting{c, 9}));
        EXPECT_EQ(resolve_compression_level(c, 10), (CompressionSetting{c, 9}));
        EXPECT_EQ(resolve_compression_level(c, -7), (CompressionSetting{c, 1}));
        EXPECT_EQ(skip_compression_level(c), 0);
    }
}

// Verifies zstd's levels: unset and 0 mean the library default (3); the rest clamp to the
// library's range, negative ("fast") levels included; zstd is never switched off.
TEST(Compression, ZstdLevels)
{
    const Compression z = Compression::Zstd;
    EXPECT_EQ(resolve_compression_level(z, kCompressLevelUnset), (CompressionSetting{z, 3}));
    EXPECT_EQ(resolve_compression_level(z, 0), (CompressionSetting{z, 3}));
    EXPECT_EQ(resolve_compression_level(z, 19), (CompressionSetting{z, 19}));
    EXPECT_EQ(resolve_compression_level(z, 99), (CompressionSetting{z, ZSTD_maxCLevel()}));
    EXPECT_EQ(resolve_compression_level(z, -5), (CompressionSetting{z, -5}));
    EXPECT_EQ(resolve_compression_level(z, INT_MIN + 1), (CompressionSetting{z, ZSTD_minCLevel()}));
    EXPECT_EQ(skip_compression_level(z), ZSTD_minCLevel());
}

// Verifies that lz4 has the single level 0 and that "none" keeps whatever was asked.
TEST(Compression, Lz4AndNoneLevels)
{
    EXPECT_EQ(resolve_compression_level(Compression::Lz4, 12), (CompressionSetting{Compression::Lz4, 0}));
    EXPECT_EQ(resolve_compression_level(Compression::Lz4, kCompressLevelUnset),
              (CompressionSetting{Compression::Lz4, 0}));
    EXPECT_EQ(resolve_compression_level(Compression::None, 4), (CompressionSetting{Compression::None, 4}));
    EXPECT_EQ(skip_compression_level(Compression::Lz4), 0);
}

// Verifies the "dont compress" suffix and wildcard rules on a daemon's default list.
TEST(SkipCompress, DefaultList)
{
    const SkipCompress s("*.gz *.zip *.tar.* *.7z [Rr][Ee]ADME");
    EXPECT_FALSE(s.applies_to_all());
    EXPECT_TRUE(s.matches("a.gz"));
    EXPECT_TRUE(s.matches("dir/sub/A.GZ"));
    EXPECT_TRUE(s.matches("x.7z"));
    EXPECT_TRUE(s.matches("src.tar.xz")); // wildcard rule, case folded
    EXPECT_TRUE(s.matches("docs/readme"));
    EXPECT_FALSE(s.matches("a.gzip"));
    EXPECT_FALSE(s.matches("gz"));
    EXPECT_FALSE(s.matches(".gz"));      // a dot file has no suffix
    EXPECT_FALSE(s.matches("a.gz."));    // nor does a name ending in a dot
    EXPECT_FALSE(s.matches("a.gz/b"));   // only the last component counts
    EXPECT_FALSE(s.matches("a.txt"));
}

// Verifies that "*" in "dont compress" covers every file and discards the other rules.
TEST(SkipCompress, StarCoversEverything)
{
    const SkipCompress s("*.gz * *.zip", "txt");
    EXPECT_TRUE(s.applies_to_all());
    EXPECT_TRUE(s.matches("anything"));
    EXPECT_TRUE(s.matches("a.txt"));
    EXPECT_FALSE(SkipCompress("*.gz *x").applies_to_all());
}

// Verifies --skip-compress suffixes: '/' separated, "[...]" classes, the literal '[' rules
// of upstream's add_suffix, and the 32-byte cut.
TEST(SkipCompress, SuffixSyntax)
{
    const SkipCompress s("", "/mp[34]/[ot]gg//JPG/a[b/[x]y/q[]/" + std::string(40, 'l'));
    EXPECT_TRUE(s.matches("song.mp3"));
    EXPECT_TRUE(s.matches("song.MP4"));
    EXPECT_FALSE(s.matches("song.mp5"));
    EXPECT_TRUE(s.matches("a.ogg"));
    EXPECT_TRUE(s.matches("a.tgg"));
    EXPECT_TRUE(s.matches("pic.jpg"));
    EXPECT_TRUE(s.matches("f.a[b"));  // no closing bracket: literal
    EXPECT_TRUE(s.matches("f.[x]y")); // a one-letter class is literal too
    EXPECT_FALSE(s.matches("f.xy"));
    EXPECT_FALSE(s.matches("f.q"));   // "[]" matches nothing
    EXPECT_FALSE(s.matches("f.q[]"));
    EXPECT_TRUE(s.matches("f." + std::string(32, 'l')));
    EXPECT_FALSE(s.matches("f." + std::string(40, 'l')));
}

} // namespace
} // namespace ocr::protocol
