// SPDX-License-Identifier: MIT
// Linux's packing of device numbers into a dev_t, which the protocol-27 rdev field carries
// as the low 32 bits of the sender's dev_t (glibc makedev/major/minor).
#pragma once

#include <cstdint>

namespace ocr::protocol {

/// @brief A device number split into its parts.
struct DevNumber {
    std::uint32_t major = 0;
    std::uint32_t minor = 0;
};

/// @brief Packs @p d as glibc's makedev() does.
[[nodiscard]] constexpr std::uint64_t make_dev(DevNumber d) noexcept
{
    return ((std::uint64_t{d.major} & 0x00000FFFu) << 8) |
           ((std::uint64_t{d.major} & 0xFFFFF000u) << 32) | (std::uint64_t{d.minor} & 0x000000FFu) |
           ((std::uint64_t{d.minor} & 0xFFFFFF00u) << 12);
}

/// @brief Splits a dev_t as glibc's major()/minor() do.
[[nodiscard]] constexpr DevNumber split_dev(std::uint64_t dev) noexcept
{
    return DevNumber{
        static_cast<std::uint32_t>(((dev >> 8) & 0x00000FFFu) | ((dev >> 32) & 0xFFFFF000u)),
        static_cast<std::uint32_t>((dev & 0x000000FFu) | ((dev >> 12) & 0xFFFFFF00u))};
}

} // namespace ocr::protocol
