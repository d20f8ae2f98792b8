// SPDX-License-Identifier: MIT
// rsync's weak rolling checksum ("sum1", upstream checksum.c:get_checksum1): a bulk form for
// whole blocks and the one-byte rolling step the delta search uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ocr::protocol {

/// @brief The two running sums of the weak checksum over a window of L bytes x_0..x_{L-1},
///        each byte read as a signed char (CHAR_OFFSET is 0):
///        s1 = sum of x_i, s2 = sum of (L - i) * x_i, both modulo 2^32.
///
/// Plain struct: the delta search keeps these in registers and updates them itself.
struct RollingSum {
    std::uint32_t s1 = 0;
    std::uint32_t s2 = 0;

    /// @brief The 32-bit checksum sent on the wire: low 16 bits of s1, s2 above them.
    [[nodiscard]] constexpr std::uint32_t value() const noexcept { return (s1 & 0xFFFFu) | (s2 << 16); }

    /// @brief Slides a window of @p window_len bytes one byte on: @p out leaves at the
    ///        front, @p in joins at the back (the length stays the same).
    constexpr void roll(std::uint8_t out, std::uint8_t in, std::uint32_t window_len) noexcept
    {
        drop_front(out, window_len);
        push_back(in);
    }

    /// @brief Removes the first byte @p out of a window of @p window_len bytes, which is
    ///        one shorter afterwards.
    constexpr void drop_front(std::uint8_t out, std::uint32_t window_len) noexcept
    {
        const std::uint32_t x = as_signed(out);
        s1 -= x;
        s2 -= window_len * x;
    }

    /// @brief Appends byte @p in to the window.
    constexpr void push_back(std::uint8_t in) noexcept
    {
        s1 += as_signed(in);
        s2 += s1;
    }

    /// @brief A byte as upstream's signed-char arithmetic sees it, modulo 2^32.
    [[nodiscard]] static constexpr std::uint32_t as_signed(std::uint8_t b) noexcept
    {
        return static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int8_t>(b)));
    }
};

/// @brief The running sums over all of @p data (vectorised; the hot path of block-sum
///        generation and of every re-synchronisation after a match).
[[nodiscard]] RollingSum rolling_sums(std::span<const std::uint8_t> data) noexcept;

/// @brief The weak checksum of @p data: rolling_sums(data).value().
[[nodiscard]] inline std::uint32_t rolling_checksum(std::span<const std::uint8_t> data) noexcept
{
    return rolling_sums(data).value();
}

/// @brief The straightforward byte-at-a-time form, kept as the reference the fast one is
///        tested against.
[[nodiscard]] RollingSum rolling_sums_reference(std::span<const std::uint8_t> data) noexcept;

} // namespace ocr::protocol
