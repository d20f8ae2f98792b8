// SPDX-License-Identifier: MIT
// The bytes a server sends right after the argument list (upstream compat.c:setup_protocol):
// compat flags, the checksum/compression name lists, and the checksum seed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ocr::protocol {

/// Compat-flag bits (upstream rsync.h CF_*), sent by the server from protocol 30.
enum CompatFlag : int {
    kCfIncRecurse = 0x001,
    kCfSymlinkTimes = 0x002,
    kCfSymlinkIconv = 0x004,
    kCfSafeFlist = 0x008,
    kCfAvoidXattrOptim = 0x010,
    kCfChksumSeedFix = 0x020,
    kCfInplacePartialDir = 0x040,
    kCfVarintFlistFlags = 0x080,
    kCfId0Names = 0x100,
};

/// Checksum names we offer, strongest first (upstream's default order; `none` last).
inline constexpr std::string_view kChecksumNameList = "xxh128 xxh3 xxh64 md5 md4 sha1 none";
/// Compression names we offer, preferred first.
inline constexpr std::string_view kCompressNameList = "zstd lz4 zlibx zlib none";

/// @brief The option-derived facts setup depends on.
struct ServerSetupInputs {
    int protocol = 32;
    /// The client's capability string: the argument of its "-e" option (".iLsfxCIvu"), or empty.
    std::string client_info;
    /// Result of compute_allow_inc_recurse().
    bool allow_inc_recurse = false;
    /// --checksum-choice was forwarded: no checksum list is exchanged.
    bool checksum_choice_given = false;
    /// The client asked for compression (-z or a compress option).
    bool compression_requested = false;
    /// --compress-choice (or --new-compress / --old-compress) was forwarded.
    bool compress_choice_given = false;
    /// The seed to announce (a non-zero --checksum-seed from the client, else random).
    std::int32_t seed = 0;
};

/// @brief What encode_server_setup() produced.
struct ServerSetup {
    std::string bytes;                 ///< to send, unmultiplexed, before multiplexing starts
    int compat_flags = 0;              ///< 0 below protocol 30
    bool negotiated_strings = false;   ///< name lists are exchanged (CF_VARINT_FLIST_FLAGS)
    bool client_sends_checksum_list = false;
    bool client_sends_compress_list = false;
};

/// @brief Upstream compat.c:set_allow_inc_recurse for a daemon server.
[[nodiscard]] bool compute_allow_inc_recurse(bool recurse, bool use_qsort, bool am_sender,
                                             bool delete_before, bool delete_after,
                                             bool delay_updates, bool prune_empty_dirs,
                                             std::string_view client_info) noexcept;

/// @brief Builds the server's setup bytes for a daemon session.
[[nodiscard]] ServerSetup encode_server_setup(const ServerSetupInputs& in);

/// @brief A checksum seed as upstream picks one when the client gave none: time ^ (pid << 6).
[[nodiscard]] std::int32_t make_checksum_seed() noexcept;

} // namespace ocr::protocol
