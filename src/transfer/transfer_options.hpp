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
    int info_remove = 0;                       ///< --info=remove level ("sender removed" lines)
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
    // What upstream log.c:maybe_log_item looks at on a sending server.
    int info_name = 0;                         ///< INFO_GTE(NAME, n)
    int debug_deltasum = 0;                    ///< DEBUG_GTE(DELTASUM, n): 1 adds the match report
    int stdout_format_has_i = 0;               ///< from the client's -i / --out-format
    bool logfile_format_has_i = false;         ///< the daemon's log format has %i
};

/// @brief The receiving side's view of one session (a push: upstream's generator and
///        receiver globals as do_server_recv leaves them).
struct ReceiverOptions {
    protocol::FlistOptions flist;              ///< shapes the file-list bytes (incl. protocol)
    protocol::TransferChecksum xfer_checksum;  ///< block sums
    protocol::ChecksumKind file_checksum = protocol::ChecksumKind::Md5; ///< -c sums
    std::int32_t checksum_seed = 0;
    std::optional<protocol::Compression> compression; ///< nullopt: no compression
    std::size_t max_alloc = std::size_t{1} << 30;     ///< --max-alloc

    /// The destination argument after "." (module-relative; empty: the module root).
    std::string dest_path;
    bool dest_given = false;                   ///< a destination argument was sent at all
    /// Directory for temp files (--temp-dir / "temp dir"); empty: none. A leading '/' names
    /// it from the module root, otherwise it is relative to the destination (upstream's
    /// current directory once get_local_name has run): see PushShared::temp_dir.
    std::string temp_dir;
    /// The --temp-dir as upstream names it in its messages (the daemon's sanitized form).
    std::string temp_dir_shown;
    /// --compare-dest/--copy-dest/--link-dest arguments as the client sent them.
    std::vector<std::string> basis_dirs;
    int alt_dest_type = 0;                     ///< 1 compare, 2 copy, 3 link (upstream *_DEST)
    /// Upstream fuzzy_basis: 0 off; 1 for -y; with -yy the basis dir count + 1 (the dirs
    /// searched: the destination's, then each alt-dest dir).
    int fuzzy_basis = 0;
    bool sanitize_paths = false;               ///< upstream sanitize_paths (a module not chrooted)
    std::string module_dir = "/";              ///< upstream module_dir: the module path, "/" chrooted

    // Which files to update (generator.c:recv_generator, quick_check_ok).
    bool dry_run = false;                      ///< !do_xfers
    bool whole_file = false;
    std::int32_t block_size = 0;
    bool always_checksum = false;
    bool size_only = false;
    bool ignore_times = false;
    bool update_only = false;
    bool ignore_existing = false;
    bool ignore_non_existing = false;
    int modify_window = 0;
    std::int64_t max_size = -1;
    std::int64_t min_size = -1;
    bool recurse = false;
    bool relative_paths = false;
    bool implied_dirs = true;
    bool prune_empty_dirs = false;             ///< -m (the receiver prunes its list)

    // How files are written.
    bool inplace = false;
    int append_mode = 0;                       ///< 1 --append, 2 --append-verify
    bool sparse = false;
    bool do_fsync = false;
    bool keep_partial = false;
    /// --partial-dir (or --delay-updates' ".~tmp~"), relative to each file's directory:
    /// upstream's daemon sanitizes an absolute one into a relative one (main.c:do_server_recv).
    std::string partial_dir;
    bool delay_updates = false;
    bool preallocate = false;                  ///< --preallocate
    /// 1 --remove-source-files, 2 --remove-sent-files: the client removes each file the
    /// receiving side reports done (MSG_SUCCESS), so that side must report them.
    int remove_source_files = 0;

    // Metadata.
    bool preserve_perms = false;
    bool preserve_executability = false;
    bool preserve_mtimes = false;
    bool omit_dir_times = false;
    bool omit_link_times = false;
    bool preserve_uid = false;
    bool preserve_gid = false;
    bool preserve_links = false;
    bool preserve_devices = false;
    bool preserve_specials = false;
    bool safe_links = false;
    bool munge_symlinks = false;               ///< the module munges symlinks
    int am_root = 0;                           ///< 1 root, 0 not, -1 fake super
    bool numeric_ids = false;
    std::optional<std::string> usermap;        ///< --usermap (--chown=USER arrives as "*:USER")
    std::optional<std::string> groupmap;       ///< --groupmap (--chown=:GROUP as "*:GROUP")
    std::uint32_t umask = 022;                 ///< upstream orig_umask

    // Deletion.
    int delete_mode = 0;                       ///< any --delete*
    bool ignore_errors = false;
    bool delete_before = false;                ///< --delete-before
    int delete_during = 0;                     ///< 1 --delete-during, 2 --delete-delay
    bool delete_after = false;                 ///< --delete-after
    bool force_delete = false;                 ///< --force: replace non-empty dirs too
    int max_delete = -1;                       ///< --max-delete; < 0 no limit, 0 delete nothing
    int info_del = 0;                          ///< INFO_GTE(DEL, n)
    /// The server's --out-format (or "%i %n%L" from -i): "deleting" lines below protocol 29.
    std::optional<std::string> stdout_format;

    // Backups (-b, --backup-dir, --suffix).
    bool make_backups = false;
    std::string backup_dir;                    ///< like temp_dir: '/' = module root, else from the destination
    std::string backup_dir_shown;              ///< as upstream names it in messages (ends in '/')
    std::string backup_suffix = "~";
    int info_backup = 0;                       ///< INFO_GTE(BACKUP, n)
    int info_symsafe = 0;                      ///< INFO_GTE(SYMSAFE, n)
    int info_nonreg = 0;                       ///< INFO_GTE(NONREG, n)

    // Reporting.
    int info_name = 0;                         ///< INFO_GTE(NAME, n)
    int debug_flist = 0;                       ///< DEBUG_GTE(FLIST, n): 1 names delta transmission
    int stdout_format_has_i = 0;
    bool log_before_transfer = false;
    bool logfile_format_has_i = false;
    bool log_transfers = false;                ///< the daemon writes transfer-log lines

    // Session behaviour.
    std::chrono::seconds io_timeout{0};
    int bwlimit_kib = 0;
};

} // namespace ocr::transfer
