// SPDX-License-Identifier: MIT
// The bytes a server sends right after the argument list (upstream compat.c:setup_protocol):
// compat flags, the checksum/compression name lists, and the checksum seed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::protocol {

/// Checksum names we offer, strongest first (upstream's default order; `none` last).
inline constexpr std::string_view kChecksumNameList = "xxh128 xxh3 xxh64 md5 md4 sha1 none";
/// Compression names we offer, preferred first.
inline constexpr std::string_view kCompressNameList = "zstd lz4 zlibx zlib none";

/// @brief What to send; the decisions are made from the options (daemon::plan_protocol_setup).
struct ServerSetupInputs {
    bool send_compat_flags = false;    ///< protocol >= 30
    bool compat_flags_as_byte = false; ///< a pre-release client that sent the "V" letter
    int compat_flags = 0;
    std::optional<std::string> checksum_list; ///< sent when set (name negotiation)
    std::optional<std::string> compress_list; ///< sent when set
    std::int32_t seed = 0;
};

/// @brief Encodes the setup bytes, sent unmultiplexed before multiplexing starts.
/// @throw std::length_error if a name list is longer than a vstring can carry.
[[nodiscard]] std::string encode_server_setup(const ServerSetupInputs& in);

/// @brief A checksum seed as upstream picks one when the client gave none: time ^ (pid << 6).
[[nodiscard]] std::int32_t make_checksum_seed() noexcept;

} // namespace ocr::protocol
