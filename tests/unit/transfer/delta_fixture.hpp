// SPDX-License-Identifier: MIT
// Test data for the delta tests (matcher, apply, basis sums): reproducible pseudo-random
// bytes and the helpers that build a basis and its changed copy from pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace ocr::transfer::delta_fixture {

using Bytes = std::vector<std::uint8_t>;

/// @brief @p n bytes of the xorshift32 generator the captured scenarios were built with
///        (tests/data/checksum/captured_tokens.txt): the same seed gives the same bytes.
inline Bytes prng(std::uint32_t seed, std::size_t n)
{
    std::uint32_t x = seed != 0 ? seed : 1;
    Bytes out(n);
    for (auto& b : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    return out;
}

/// @brief The parts one after the other.
inline Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

/// @brief Bytes [from, to) of @p b.
inline Bytes slice(const Bytes& b, std::size_t from, std::size_t to)
{
    return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(to));
}

/// @brief @p b, @p n times.
inline Bytes repeat(const Bytes& b, int n)
{
    Bytes out;
    for (int i = 0; i < n; ++i)
        out.insert(out.end(), b.begin(), b.end());
    return out;
}

} // namespace ocr::transfer::delta_fixture
