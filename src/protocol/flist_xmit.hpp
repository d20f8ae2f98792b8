// SPDX-License-Identifier: MIT
// The per-entry flag bits of the file-list encoding (upstream rsync.h XMIT_*). Several
// bits mean different things depending on the protocol and the entry's type.
#pragma once

#include <cstdint>

namespace ocr::protocol::xmit {

inline constexpr std::uint32_t kTopDir = 1u << 0;
inline constexpr std::uint32_t kSameMode = 1u << 1;
inline constexpr std::uint32_t kSameRdevPre28 = 1u << 2; ///< protocols before 28
inline constexpr std::uint32_t kExtendedFlags = 1u << 2; ///< protocol 28+: a second flag byte
inline constexpr std::uint32_t kSameUid = 1u << 3;
inline constexpr std::uint32_t kSameGid = 1u << 4;
inline constexpr std::uint32_t kSameName = 1u << 5;
inline constexpr std::uint32_t kLongName = 1u << 6;
inline constexpr std::uint32_t kSameTime = 1u << 7;
inline constexpr std::uint32_t kSameRdevMajor = 1u << 8; ///< devices, protocol 28+
inline constexpr std::uint32_t kNoContentDir = 1u << 8;  ///< directories, protocol 30+
inline constexpr std::uint32_t kHlinked = 1u << 9;
inline constexpr std::uint32_t kSameDevPre30 = 1u << 10;     ///< protocols 28-29
inline constexpr std::uint32_t kUserNameFollows = 1u << 10;  ///< protocol 30+
inline constexpr std::uint32_t kRdevMinor8Pre30 = 1u << 11;  ///< protocols 28-29
inline constexpr std::uint32_t kGroupNameFollows = 1u << 11; ///< protocol 30+
inline constexpr std::uint32_t kHlinkFirst = 1u << 12;       ///< protocol 30+, hard-linked entries
inline constexpr std::uint32_t kIoErrorEndList = 1u << 12;   ///< end marker carrying io_error
inline constexpr std::uint32_t kModNsec = 1u << 13;          ///< protocol 31+
inline constexpr std::uint32_t kSameAtime = 1u << 14;
inline constexpr std::uint32_t kCrtimeEqMtime = 1u << 17; ///< varint flags only

} // namespace ocr::protocol::xmit
