// SPDX-License-Identifier: MIT
// Tests of the EVP digest wrapper against published vectors, streaming and MD4 availability.
#include "protocol/digest.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>

namespace ocr::protocol {
namespace {

struct Vector {
    DigestAlgorithm algorithm;
    std::string input;
    std::string hex;
};

std::string hex_of(DigestAlgorithm a, std::string_view input)
{
    return digest_hex(compute_digest(a, input));
}

// Verifies that MD4 reproduces the RFC 1320 appendix A.5 test suite.
TEST(Digest, Md4Rfc1320Suite)
{
    ASSERT_TRUE(digest_available(DigestAlgorithm::Md4));
    const Vector vectors[] = {
        {DigestAlgorithm::Md4, "", "31d6cfe0d16ae931b73c59d7e0c089c0"},
        {DigestAlgorithm::Md4, "a", "bde52cb31de33e46245e05fbdbd6fb24"},
        {DigestAlgorithm::Md4, "abc", "a448017aaf21d8525fc10ae87aa6729d"},
        {DigestAlgorithm::Md4, "message digest", "d9130a8164549fe818874806e1c7014b"},
        {DigestAlgorithm::Md4, "abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"},
        {DigestAlgorithm::Md4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "043f8582f241db351ce627e153e7f0e4"},
        {DigestAlgorithm::Md4,
         "1234567890123456789012345678901234567890123456789012345678901234567890123456789"
         "0",
         "e33b4ddc9c38f2199c3e7b164fcc0536"},
    };
    for (const Vector& v : vectors)
        EXPECT_EQ(hex_of(v.algorithm, v.input), v.hex) << v.input;
}

// Verifies that MD5 reproduces the RFC 1321 appendix A.5 vectors.
TEST(Digest, Md5Rfc1321Vectors)
{
    EXPECT_EQ(hex_of(DigestAlgorithm::Md5, ""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(hex_of(DigestAlgorithm::Md5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(hex_of(DigestAlgorithm::Md5, "message digest"),
              "f96b697d7cb7938d525a2f31aaf161d0");
}

// Verifies that the SHA family reproduces the FIPS 180 example vectors.
TEST(Digest, ShaFips180Vectors)
{
    const std::string two_block = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    EXPECT_EQ(hex_of(DigestAlgorithm::Sha1, "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(hex_of(DigestAlgorithm::Sha1, two_block),
              "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    EXPECT_EQ(hex_of(DigestAlgorithm::Sha256, "abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex_of(DigestAlgorithm::Sha256, two_block),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex_of(DigestAlgorithm::Sha512, "abc"),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    EXPECT_EQ(hex_of(DigestAlgorithm::Sha512, ""),
              "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
              "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
}

// Verifies that feeding one million 'a's in uneven pieces gives the FIPS 180 long-message
// SHA-1 value, and the same digest as a one-shot call.
TEST(Digest, StreamingMatchesOneShot)
{
    const std::string million(1000000, 'a');
    Digest d(DigestAlgorithm::Sha1);
    std::size_t pos = 0;
    std::size_t step = 1;
    while (pos < million.size()) {
        const std::size_t n = std::min(step, million.size() - pos);
        d.update(std::string_view(million).substr(pos, n));
        pos += n;
        step = step * 3 + 1;
    }
    const auto streamed = d.finish();
    EXPECT_EQ(digest_hex(streamed), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    EXPECT_EQ(streamed, compute_digest(DigestAlgorithm::Sha1, million));
}

// Verifies that finish() starts a fresh computation and reset() discards fed data.
TEST(Digest, FinishAndResetRestart)
{
    Digest d(DigestAlgorithm::Md5);
    d.update("ab");
    d.update("c");
    EXPECT_EQ(digest_hex(d.finish()), "900150983cd24fb0d6963f7d28e17f72");
    d.update("message digest");
    EXPECT_EQ(digest_hex(d.finish()), "f96b697d7cb7938d525a2f31aaf161d0");
    d.update("garbage");
    d.reset();
    EXPECT_EQ(digest_hex(d.finish()), "d41d8cd98f00b204e9800998ecf8427e");
}

// Verifies the reported lengths and names, and that finish() refuses a short buffer.
TEST(Digest, LengthsNamesAndShortBuffer)
{
    EXPECT_EQ(digest_length(DigestAlgorithm::Md4), 16u);
    EXPECT_EQ(digest_length(DigestAlgorithm::Md5), 16u);
    EXPECT_EQ(digest_length(DigestAlgorithm::Sha1), 20u);
    EXPECT_EQ(digest_length(DigestAlgorithm::Sha256), 32u);
    EXPECT_EQ(digest_length(DigestAlgorithm::Sha512), 64u);
    EXPECT_EQ(digest_name(DigestAlgorithm::Sha256), "sha256");
    EXPECT_EQ(digest_name(DigestAlgorithm::Md4), "md4");

    Digest d(DigestAlgorithm::Sha256);
    std::uint8_t small[31] = {};
    EXPECT_THROW(d.finish(std::span<std::uint8_t>(small)), std::invalid_argument);
    std::uint8_t big[kMaxDigestLength] = {};
    EXPECT_EQ(d.finish(std::span<std::uint8_t>(big)), 32u);
    EXPECT_EQ(digest_hex(std::span<const std::uint8_t>(big, 32)),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// Verifies that a moved-from Digest refuses use while the target keeps the state.
TEST(Digest, MoveTransfersState)
{
    Digest a(DigestAlgorithm::Md5);
    a.update("abc");
    Digest b(std::move(a));
    EXPECT_THROW(a.update("x"), DigestError); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(digest_hex(b.finish()), "900150983cd24fb0d6963f7d28e17f72");
}

// Verifies that without OpenSSL's legacy provider MD4 is reported unavailable (and
// refused with DigestError) while the other digests keep working. Runs in a re-executed
// child so that the provider setup happens under the changed module path.
TEST(DigestDeathTest, Md4UnavailableWithoutLegacyProvider)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ::setenv("OPENSSL_MODULES", "/nonexistent-ocr-openssl-modules", 1);
    EXPECT_EXIT(
        {
            bool refused = false;
            try {
                Digest d(DigestAlgorithm::Md4);
            } catch (const DigestError&) {
                refused = true;
            }
            const bool ok = !digest_available(DigestAlgorithm::Md4) && refused &&
                            digest_available(DigestAlgorithm::Sha512) &&
                            hex_of(DigestAlgorithm::Md5, "abc") ==
                                "900150983cd24fb0d6963f7d28e17f72";
            std::_Exit(ok ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
    ::unsetenv("OPENSSL_MODULES");
}

} // namespace
} // namespace ocr::protocol
