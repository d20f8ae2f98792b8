// SPDX-License-Identifier: MIT
// The session settings that shape the file-list encoding (negotiated protocol, compat
// flags and the transfer options both ends agreed on).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ocr::protocol {

/// @brief How uid/gid names travel (upstream's tri-state numeric_ids).
enum class NumericIds {
    Off,   ///< names are looked up, sent and mapped (numeric_ids == 0)
    Local, ///< a daemon module uses numbers but the wire keeps the (empty) id lists
           ///< so the client's stream stays aligned (numeric_ids == -1)
    Wire,  ///< the client passed --numeric-ids: no names and no id lists at all
};

/// @brief Everything that changes the bytes of a file list. Both ends must agree.
struct FlistOptions {
    int protocol = 32;
    bool varint_flags = false;        ///< CF_VARINT_FLIST_FLAGS (xfer_flags_as_varint)
    bool preserve_uid = false;        ///< -o
    bool preserve_gid = false;        ///< -g
    bool preserve_links = false;      ///< -l
    bool preserve_devices = false;    ///< -D (devices part)
    bool preserve_specials = false;   ///< -D (specials part)
    bool preserve_hard_links = false; ///< -H
    bool preserve_atimes = false;     ///< -U / --atimes
    bool preserve_crtimes = false;    ///< -N / --crtimes (needs varint_flags)
    bool always_checksum = false;     ///< -c
    std::size_t checksum_len = 16;    ///< bytes of the -c sum (upstream flist_csum_len)
    bool inc_recurse = false;         ///< CF_INC_RECURSE was set
    NumericIds numeric_ids = NumericIds::Off;
    bool xmit_id0_names = false;      ///< CF_ID0_NAMES
    bool use_safe_inc_flist = false;  ///< CF_SAFE_FLIST or protocol >= 31
    bool relative_paths = false;      ///< -R: names may start with '/'
    bool recurse = false;             ///< -r (the receiver's pre-30 content-dir bookkeeping)
    bool ignore_errors = false;       ///< --ignore-errors: io_error is neither sent nor kept
    bool delete_missing_args = false; ///< --delete-missing-args: mode 0 entries are legal
    /// The module munges symlinks (the caller adds/strips upstream's prefix; here it only
    /// stops the receiver from sanitizing targets, as upstream does).
    bool munge_symlinks = false;
    /// Receiver sanitizes names and symlink targets as if chrooted (upstream
    /// sanitize_paths, on for a daemon module without a real chroot).
    bool sanitize_paths = false;
};

/// Longest -c sum any checksum rsync negotiates can have (upstream MAX_DIGEST_LEN).
inline constexpr std::size_t kMaxFlistChecksumLen = 64;
/// Longest path upstream handles, including its terminating NUL (Linux MAXPATHLEN).
inline constexpr std::size_t kMaxPathLen = 4096;

} // namespace ocr::protocol
