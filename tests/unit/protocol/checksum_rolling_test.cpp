// SPDX-License-Identifier: MIT
#include "protocol/checksum_rolling.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace ocr::protocol {
namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> out(n);
    for (auto& b : out)
        b = static_cast<std::uint8_t>(rng());
    return out;
}

// Verifies the weak checksum of a small ASCII input worked out by hand:
// s1 = 97+98+99 = 294, s2 = 3*97 + 2*98 + 99 = 586.
TEST(RollingChecksum, HandWorkedValue)
{
    const std::vector<std::uint8_t> abc{'a', 'b', 'c'};
    EXPECT_EQ(rolling_checksum(abc), (586u << 16) | 294u);
    EXPECT_EQ(rolling_checksum({}), 0u);
}

// Verifies that bytes are read as signed chars: 0xFF counts as -1, 0x80 as -128.
TEST(RollingChecksum, SignedBytes)
{
    const std::vector<std::uint8_t> ff{0xFF};
    EXPECT_EQ(rolling_checksum(ff), 0xFFFFFFFFu);
    const std::vector<std::uint8_t> two{0x80, 0x01};
    // s1 = -128 + 1 = -127; s2 = 2*(-128) + 1 = -255.
    const RollingSum r = rolling_sums(two);
    EXPECT_EQ(r.s1, static_cast<std::uint32_t>(-127));
    EXPECT_EQ(r.s2, static_cast<std::uint32_t>(-255));
}

// Verifies that the vectorised form gives the reference sums for every length up to a few
// vector steps past the cut-over, and for long inputs whose lane sums wrap around.
TEST(RollingChecksum, FastFormMatchesReference)
{
    const auto data = random_bytes(5000, 1);
    for (std::size_t n = 0; n <= 600; ++n) {
        const std::span<const std::uint8_t> s(data.data(), n);
        const RollingSum fast = rolling_sums(s);
        const RollingSum ref = rolling_sums_reference(s);
        ASSERT_EQ(fast.s1, ref.s1) << n;
        ASSERT_EQ(fast.s2, ref.s2) << n;
    }
    // Unaligned starts.
    for (std::size_t start = 1; start < 40; ++start) {
        const std::span<const std::uint8_t> s(data.data() + start, 4000);
        EXPECT_EQ(rolling_sums(s).s2, rolling_sums_reference(s).s2) << start;
    }
    for (std::uint8_t fill : {std::uint8_t{0x80}, std::uint8_t{0x7F}, std::uint8_t{0xFF}}) {
        const std::vector<std::uint8_t> big(3 * 1024 * 1024 + 5, fill);
        const RollingSum fast = rolling_sums(big);
        const RollingSum ref = rolling_sums_reference(big);
        EXPECT_EQ(fast.s1, ref.s1) << int(fill);
        EXPECT_EQ(fast.s2, ref.s2) << int(fill);
    }
    const auto big_random = random_bytes(1 << 20, 7);
    EXPECT_EQ(rolling_sums(big_random).value(), rolling_sums_reference(big_random).value());
}

// Verifies that rolling a window one byte at a time always equals recomputing the window,
// including the shrinking windows at the end of a file.
TEST(RollingChecksum, RollEqualsRecompute)
{
    const auto data = random_bytes(3000, 2);
    const std::uint32_t len = 700;
    RollingSum r = rolling_sums({data.data(), len});
    for (std::size_t off = 0; off + len < data.size(); ++off) {
        r.roll(data[off], data[off + len], len);
        ASSERT_EQ(r.value(), rolling_checksum({data.data() + off + 1, len})) << off;
    }
    // Shrink: drop bytes off the front until the window is empty.
    std::size_t off = data.size() - len;
    for (std::uint32_t k = len; k > 0; --k, ++off) {
        r.drop_front(data[off], k);
        ASSERT_EQ(r.value(), rolling_checksum({data.data() + off + 1, k - 1})) << k;
    }
}

} // namespace
} // namespace ocr::protocol
