// SPDX-License-Identifier: MIT
// Tests of rsync's base64 encoder: RFC 4648 vectors with and without padding.
#include "protocol/base64.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ocr::protocol {
namespace {

// Verifies the RFC 4648 section 10 vectors, padded and in rsync's unpadded form.
TEST(Base64, Rfc4648VectorsPaddedAndUnpadded)
{
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [in, padded] : vectors) {
        EXPECT_EQ(base64_encode(std::string_view(in), true), padded) << in;
        std::string unpadded(padded);
        while (!unpadded.empty() && unpadded.back() == '=')
            unpadded.pop_back();
        EXPECT_EQ(base64_encode(std::string_view(in)), unpadded) << in;
    }
}

// Verifies the characters for high bit patterns ('+' and '/') and a longer mixed buffer
// (reference output from Python's base64 module).
TEST(Base64, AlphabetEndsAndLongInput)
{
    EXPECT_EQ(base64_encode(std::vector<std::uint8_t>{0xff, 0xff, 0xff}), "////");
    EXPECT_EQ(base64_encode(std::vector<std::uint8_t>{0xfb, 0xff}), "+/8");
    std::vector<std::uint8_t> bytes;
    for (int b = 0; b < 256; b += 7)
        bytes.push_back(static_cast<std::uint8_t>(b));
    EXPECT_EQ(base64_encode(bytes, true), "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tng5+71/A==");
    EXPECT_EQ(base64_encode(bytes), "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tng5+71/A");
}

// Verifies the encoded lengths of the digest sizes daemon auth uses (22/27/43/86) and that
// the computed length always equals the produced length.
TEST(Base64, EncodedLengths)
{
    EXPECT_EQ(base64_encoded_length(16), 22u);
    EXPECT_EQ(base64_encoded_length(20), 27u);
    EXPECT_EQ(base64_encoded_length(32), 43u);
    EXPECT_EQ(base64_encoded_length(64), 86u);
    EXPECT_EQ(base64_encoded_length(64, true), 88u);
    for (std::size_t n = 0; n < 70; ++n) {
        const std::vector<std::uint8_t> data(n, 0xa5);
        EXPECT_EQ(base64_encode(data).size(), base64_encoded_length(n)) << n;
        EXPECT_EQ(base64_encode(data, true).size(), base64_encoded_length(n, true)) << n;
        EXPECT_EQ(base64_encode(data).find('='), std::string::npos) << n;
    }
}

} // namespace
} // namespace ocr::protocol
