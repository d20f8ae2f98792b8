// SPDX-License-Identifier: MIT
#include "protocol/checksum.hpp"

#include "protocol/protocol_error.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s)
{
    return {s.begin(), s.end()};
}

std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<std::uint8_t> le32(std::int32_t v)
{
    const auto u = static_cast<std::uint32_t>(v);
    return {static_cast<std::uint8_t>(u), static_cast<std::uint8_t>(u >> 8), static_cast<std::uint8_t>(u >> 16),
            static_cast<std::uint8_t>(u >> 24)};
}

std::vector<std::uint8_t> le64(std::uint64_t v)
{
    std::vector<std::uint8_t> out;
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return out;
}

std::vector<std::uint8_t> block_sum(TransferChecksum sum, std::int32_t seed, const std::vector<std::uint8_t>& data)
{
    BlockChecksum b(sum, seed);
    std::vector<std::uint8_t> out(b.length());
    EXPECT_EQ(b.compute(data, out), out.size());
    return out;
}

std::vector<std::uint8_t> transfer_sum(ChecksumKind kind, std::int32_t seed, const std::vector<std::uint8_t>& data)
{
    FileChecksum f = FileChecksum::for_transfer(kind, seed);
    f.update(data);
    std::vector<std::uint8_t> out(f.length());
    EXPECT_EQ(f.finish(out), out.size());
    return out;
}

const std::vector<std::uint8_t> kData = bytes("The quick brown fox jumps over the lazy dog, \x80\xff\x01 twice over.");

// Verifies that every kind has upstream's name and digest length.
TEST(ChecksumKinds, NamesAndLengths)
{
    EXPECT_EQ(checksum_name(ChecksumKind::None), "none");
    EXPECT_EQ(checksum_name(ChecksumKind::Md4Old), "md4");
    EXPECT_EQ(checksum_name(ChecksumKind::Md4), "md4");
    EXPECT_EQ(checksum_name(ChecksumKind::Md5), "md5");
    EXPECT_EQ(checksum_name(ChecksumKind::Sha1), "sha1");
    EXPECT_EQ(checksum_name(ChecksumKind::Xxh64), "xxh64");
    EXPECT_EQ(checksum_name(ChecksumKind::Xxh3), "xxh3");
    EXPECT_EQ(checksum_name(ChecksumKind::Xxh128), "xxh128");
    EXPECT_EQ(checksum_length(ChecksumKind::None), 1u);
    EXPECT_EQ(checksum_length(ChecksumKind::Md4Old), 16u);
    EXPECT_EQ(checksum_length(ChecksumKind::Md4), 16u);
    EXPECT_EQ(checksum_length(ChecksumKind::Md5), 16u);
    EXPECT_EQ(checksum_length(ChecksumKind::Sha1), 20u);
    EXPECT_EQ(checksum_length(ChecksumKind::Xxh64), 8u);
    EXPECT_EQ(checksum_length(ChecksumKind::Xxh3), 8u);
    EXPECT_EQ(checksum_length(ChecksumKind::Xxh128), 16u);
}

// Verifies that names are matched case-insensitively, "xxhash" means xxh64, and unknown or
// partial names match nothing.
// Verifies %C's spelling (upstream util2.c:sum_as_hex): digests byte by byte, xxhash
// values from the last byte, no spelling for none and the old MD4.
TEST(ChecksumKinds, CanonicalHex)
{
    const std::array<std::byte, 20> bytes{std::byte{0x01}, std::byte{0x23}, std::byte{0x45}, std::byte{0x67},
                                          std::byte{0x89}, std::byte{0xab}, std::byte{0xcd}, std::byte{0xef}};
    EXPECT_EQ(checksum_hex(ChecksumKind::Md5, bytes), "0123456789abcdef0000000000000000");
    EXPECT_EQ(checksum_hex(ChecksumKind::Sha1, bytes), "0123456789abcdef000000000000000000000000");
    EXPECT_EQ(checksum_hex(ChecksumKind::Xxh64, bytes), "efcdab8967452301");
    EXPECT_EQ(checksum_hex(ChecksumKind::Xxh128, bytes), "0000000000000000efcdab8967452301");
    EXPECT_FALSE(checksum_hex(ChecksumKind::None, bytes).has_value());
    EXPECT_FALSE(checksum_hex(ChecksumKind::Md4Old, bytes).has_value());
    // A short sum is spelled as far as it goes.
    EXPECT_EQ(checksum_hex(ChecksumKind::Md5, std::span(bytes).first(2)), "0123");
}

TEST(ChecksumKinds, ByName)
{
    EXPECT_EQ(checksum_by_name("MD5"), ChecksumKind::Md5);
    EXPECT_EQ(checksum_by_name("Xxh128"), ChecksumKind::Xxh128);
    EXPECT_EQ(checksum_by_name("xxhash"), ChecksumKind::Xxh64);
    EXPECT_EQ(checksum_by_name("md4"), ChecksumKind::Md4);
    EXPECT_EQ(checksum_by_name("none"), ChecksumKind::None);
    EXPECT_EQ(checksum_by_name("md"), std::nullopt);
    EXPECT_EQ(checksum_by_name("md55"), std::nullopt);
    EXPECT_EQ(checksum_by_name("sha256"), std::nullopt);
    EXPECT_EQ(checksum_by_name(""), std::nullopt);
}

// Verifies that MD5 block sums put the 4 little-endian seed bytes first or last as asked,
// and leave a zero seed out entirely.
TEST(BlockChecksum, Md5SeedPlacement)
{
    const std::int32_t seed = 0x01020304;
    EXPECT_EQ(block_sum({ChecksumKind::Md5, SeedPlacement::Prepend}, seed, kData),
              compute_digest(DigestAlgorithm::Md5, concat(le32(seed), kData)));
    EXPECT_EQ(block_sum({ChecksumKind::Md5, SeedPlacement::Append}, seed, kData),
              compute_digest(DigestAlgorithm::Md5, concat(kData, le32(seed))));
    EXPECT_EQ(block_sum({ChecksumKind::Md5, SeedPlacement::Append}, 0, kData),
              compute_digest(DigestAlgorithm::Md5, kData));
    EXPECT_EQ(block_sum({ChecksumKind::Md5, SeedPlacement::Prepend}, 0, kData),
              compute_digest(DigestAlgorithm::Md5, kData));
}

// Verifies that MD4 block sums (both kinds) follow the placement and omit a zero seed.
TEST(BlockChecksum, Md4SeedPlacement)
{
    const std::int32_t seed = -123456789;
    for (ChecksumKind kind : {ChecksumKind::Md4, ChecksumKind::Md4Old}) {
        EXPECT_EQ(block_sum({kind, SeedPlacement::Append}, seed, kData),
                  compute_digest(DigestAlgorithm::Md4, concat(kData, le32(seed))));
        EXPECT_EQ(block_sum({kind, SeedPlacement::Prepend}, seed, kData),
                  compute_digest(DigestAlgorithm::Md4, concat(le32(seed), kData)));
        EXPECT_EQ(block_sum({kind, SeedPlacement::Append}, 0, kData), compute_digest(DigestAlgorithm::Md4, kData));
    }
}

// Verifies that SHA-1 block sums always put the seed first (upstream has only the OpenSSL
// path for it), whatever the placement field says.
TEST(BlockChecksum, Sha1AlwaysPrepends)
{
    const std::int32_t seed = 777;
    const auto want = compute_digest(DigestAlgorithm::Sha1, concat(le32(seed), kData));
    EXPECT_EQ(block_sum({ChecksumKind::Sha1, SeedPlacement::Prepend}, seed, kData), want);
    EXPECT_EQ(block_sum({ChecksumKind::Sha1, SeedPlacement::Append}, seed, kData), want);
    EXPECT_EQ(block_sum({ChecksumKind::Sha1, SeedPlacement::Append}, 0, kData),
              compute_digest(DigestAlgorithm::Sha1, kData));
}

// Verifies that the xxhash kinds use the seed sign-extended to 64 bits and store their
// results little-endian, xxh128 as low half then high half.
TEST(BlockChecksum, XxhashSeedsAndLayout)
{
    const std::int32_t seed = -5;
    const auto wide = static_cast<XXH64_hash_t>(std::int64_t{-5});
    EXPECT_EQ(block_sum({ChecksumKind::Xxh64, SeedPlacement::Prepend}, seed, kData),
              le64(XXH64(kData.data(), kData.size(), wide)));
    EXPECT_NE(block_sum({ChecksumKind::Xxh64, SeedPlacement::Prepend}, seed, kData),
              le64(XXH64(kData.data(), kData.size(), std::uint32_t(-5))));
    EXPECT_EQ(block_sum({ChecksumKind::Xxh3, SeedPlacement::Prepend}, seed, kData),
              le64(XXH3_64bits_withSeed(kData.data(), kData.size(), wide)));
    const XXH128_hash_t h = XXH3_128bits_withSeed(kData.data(), kData.size(), wide);
    EXPECT_EQ(block_sum({ChecksumKind::Xxh128, SeedPlacement::Prepend}, seed, kData), concat(le64(h.low64), le64(h.high64)));
    // A zero seed is still a seed for xxhash (no special case).
    EXPECT_EQ(block_sum({ChecksumKind::Xxh64, SeedPlacement::Prepend}, 0, kData),
              le64(XXH64(kData.data(), kData.size(), 0)));
}

// Verifies that "none" has no block sum (upstream exits with code 4) and that a short
// output buffer is refused.
TEST(BlockChecksum, NoneAndShortBuffer)
{
    BlockChecksum none({ChecksumKind::None, SeedPlacement::Prepend}, 1);
    std::array<std::uint8_t, kMaxChecksumLength> out{};
    try {
        none.compute(kData, out);
        FAIL() << "expected ProtocolError";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Unsupported);
    }
    BlockChecksum md5({ChecksumKind::Md5, SeedPlacement::Prepend}, 1);
    std::array<std::uint8_t, 15> small{};
    EXPECT_THROW(md5.compute(kData, small), std::invalid_argument);
}

// Verifies that one BlockChecksum gives the same result for repeated blocks (its digest
// context is reset between blocks).
TEST(BlockChecksum, Reusable)
{
    BlockChecksum b({ChecksumKind::Md5, SeedPlacement::Prepend}, 99);
    std::array<std::uint8_t, 16> first{};
    std::array<std::uint8_t, 16> other{};
    std::array<std::uint8_t, 16> again{};
    b.compute(kData, first);
    b.compute(bytes("something else"), other);
    b.compute(kData, again);
    EXPECT_EQ(first, again);
    EXPECT_NE(first, other);
}

// Verifies that the transfer sum of the old implied MD4 hashes the seed first, even a zero
// seed, while every other kind ignores the seed.
TEST(FileChecksum, TransferSeeds)
{
    EXPECT_EQ(transfer_sum(ChecksumKind::Md4Old, 4242, kData),
              compute_digest(DigestAlgorithm::Md4, concat(le32(4242), kData)));
    EXPECT_EQ(transfer_sum(ChecksumKind::Md4Old, 0, kData), compute_digest(DigestAlgorithm::Md4, concat(le32(0), kData)));
    EXPECT_EQ(transfer_sum(ChecksumKind::Md4, 4242, kData), compute_digest(DigestAlgorithm::Md4, kData));
    EXPECT_EQ(transfer_sum(ChecksumKind::Md5, 4242, kData), compute_digest(DigestAlgorithm::Md5, kData));
    EXPECT_EQ(transfer_sum(ChecksumKind::Sha1, 4242, kData), compute_digest(DigestAlgorithm::Sha1, kData));
    EXPECT_EQ(transfer_sum(ChecksumKind::Xxh64, 4242, kData), le64(XXH64(kData.data(), kData.size(), 0)));
    EXPECT_EQ(transfer_sum(ChecksumKind::Xxh3, 4242, kData), le64(XXH3_64bits(kData.data(), kData.size())));
    const XXH128_hash_t h = XXH3_128bits(kData.data(), kData.size());
    EXPECT_EQ(transfer_sum(ChecksumKind::Xxh128, 4242, kData), concat(le64(h.low64), le64(h.high64)));
    EXPECT_EQ(transfer_sum(ChecksumKind::None, 4242, kData), std::vector<std::uint8_t>{0});
}

// Verifies that the file-list sum is never seeded (not even for the old MD4) and that
// "none" is refused with upstream's text.
TEST(FileChecksum, FileList)
{
    FileChecksum md4 = FileChecksum::for_file_list(ChecksumKind::Md4Old);
    md4.update(kData);
    std::array<std::uint8_t, 16> out{};
    md4.finish(out);
    const auto want = compute_digest(DigestAlgorithm::Md4, kData);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), out.begin()));
    try {
        (void)FileChecksum::for_file_list(ChecksumKind::None);
        FAIL() << "expected ProtocolError";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Unsupported);
        EXPECT_STREQ(e.what(), "Invalid checksum-choice for --checksum: none (0)");
    }
}

// Verifies that feeding a sum in pieces gives the one-shot result for every kind.
TEST(FileChecksum, StreamingEqualsOneShot)
{
    std::vector<std::uint8_t> big(100000);
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<std::uint8_t>(i * 131 + (i >> 7));
    for (ChecksumKind kind : {ChecksumKind::Md4Old, ChecksumKind::Md4, ChecksumKind::Md5, ChecksumKind::Sha1,
                              ChecksumKind::Xxh64, ChecksumKind::Xxh3, ChecksumKind::Xxh128}) {
        FileChecksum pieces = FileChecksum::for_transfer(kind, 17);
        for (std::size_t i = 0; i < big.size(); i += 777)
            pieces.update(std::span<const std::uint8_t>(big).subspan(i, std::min<std::size_t>(777, big.size() - i)));
        std::vector<std::uint8_t> got(pieces.length());
        pieces.finish(got);
        EXPECT_EQ(got, transfer_sum(kind, 17, big)) << checksum_name(kind);
    }
}

// Verifies that finishing twice and a short output buffer are refused.
TEST(FileChecksum, Misuse)
{
    FileChecksum f = FileChecksum::for_transfer(ChecksumKind::Md5, 0);
    std::array<std::uint8_t, 8> small{};
    EXPECT_THROW(f.finish(small), std::invalid_argument);
    std::array<std::uint8_t, 16> out{};
    f.finish(out);
    EXPECT_THROW(f.finish(out), std::logic_error);
}

// Verifies that a spoiled sum is all zeros, or ends in 1 if it was all zeros already.
TEST(SpoilFileChecksum, NeverMatchesTheOriginal)
{
    std::array<std::uint8_t, 4> sum{1, 2, 3, 4};
    spoil_file_checksum(sum);
    EXPECT_EQ(sum, (std::array<std::uint8_t, 4>{0, 0, 0, 0}));
    spoil_file_checksum(sum);
    EXPECT_EQ(sum, (std::array<std::uint8_t, 4>{0, 0, 0, 1}));
}

} // namespace
} // namespace ocr::protocol
