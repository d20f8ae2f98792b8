// SPDX-License-Identifier: MIT
// What the transfer engine needs to know about a session: the client's options as they
// affect the transfer, and what protocol setup decided. Filled in by the worker from the
// parsed options (the engine does not parse options itself).
#pragma once

#include "protocol/checksum.hpp"
#include "protocol/compression.hpp"
#include "protocol/flist_options.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ocr::transfer {

/// @brief How symlinks are treated while building the file list (upstream's copy_links,
///        copy_unsafe_links, safe_symlinks, copy_dirlinks and the module's munging).
struct SymlinkPolicy {
    bool preserve_links = false;     ///< -l
    bool copy_links = false;         ///< -L: follow every symlink
    bool copy_unsafe_links = false;  ///< follow symlinks that point out of the tree
    bool safe_links = false;         ///< drop symlinks that point out of the tree
    bool copy_dirlinks = false;      ///< -k: follow symlinks to directories
    bool munge = false;              ///< the module munges symlinks ("/rsyncd-munged/" prefix)
};

/// @brief The sending side's view of one session.
struct SenderOptions {
    protocol::FlistOptions flist;              ///< shapes the file-list bytes (incl. protocol)
    protocol::TransferChecksum xfer_checksum;  ///< block sums
    protocol::ChecksumKind file_checksum = protocol::ChecksumKind::Md5; ///< whole-file / -c sums
    std::int32_t checksum_seed = 0;
    bool proper_seed_order = false;            ///< CF_CHKSUM_SEED_FIX
    std::optional<protocol::Compression> compression; ///< nullopt: no compression
    int compress_level = 0;
    std::string dont_compress;                 ///< the module's "dont compress"
    std::string skip_compress;                 ///< the client's --skip-compress

    // What to send.
    bool recurse = false;
    bool xfer_dirs = false;
    bool relative_paths = false;
    bool implied_dirs = true;
    int one_file_system = 0;                   ///< 1 -x, 2 -xx
    bool list_only = false;
    bool dry_run = false;                      ///< !do_xfers
    int missing_args = 0;                      ///< 1 ignore, 2 delete
    bool always_checksum = false;
    bool whole_file = false;
    int append_mode = 0;
    bool inplace = false;                      ///< --inplace
    bool inplace_partial = false;              ///< CF_INPLACE_PARTIAL_DIR
    bool make_backups = false;                 ///< -b (changes what --inplace updates below 29)
    bool remove_source_files = false;
    bool ignore_errors = false;
    bool ignore_nonreadable = false;           ///< the module's "ignore nonreadable"
    SymlinkPolicy links;
    bool preserve_devices = false;
    bool preserve_specials = false;
    bool copy_devices = false;
    std::vector<std::string> chmod;            ///< --chmod then "outgoing chmod" rules

    /// The path arguments after ".", as read_args left them (module-relative patterns).
    std::vector<std::string> paths;
    bool files_from_socket = false;            ///< --files-from=- : names come from the client
    std::optional<std::string> files_from_content; ///< --files-from=FILE in the module: its bytes
    bool eol_nulls = false;                    ///< --from0

    // Session behaviour.
    std::chrono::seconds io_timeout{0};
    int bwlimit_kib = 0;
    int verbose = 0;
    bool log_transfers = false;                ///< "transfer logging" or --log-file-format
    std::string log_format;
};

} // namespace ocr::transfer
