// SPDX-License-Identifier: MIT
// The ITEM_* change flags of a file-list entry and the 11-character "%i" string built from them.
#pragma once

#include <cstdint>
#include <string>

namespace ocr::transfer {

// Upstream rsync.h ITEM_*: the low 16 bits travel on the wire (protocol >= 29) after each
// file index; the higher bits exist only inside one process.
inline constexpr std::uint32_t kItemReportAtime = 1u << 0;
inline constexpr std::uint32_t kItemReportChange = 1u << 1;
inline constexpr std::uint32_t kItemReportSize = 1u << 2;     ///< regular files only
inline constexpr std::uint32_t kItemReportTimefail = 1u << 2; ///< symlinks only (same bit)
inline constexpr std::uint32_t kItemReportTime = 1u << 3;
inline constexpr std::uint32_t kItemReportPerms = 1u << 4;
inline constexpr std::uint32_t kItemReportOwner = 1u << 5;
inline constexpr std::uint32_t kItemReportGroup = 1u << 6;
inline constexpr std::uint32_t kItemReportAcl = 1u << 7;
inline constexpr std::uint32_t kItemReportXattr = 1u << 8;
inline constexpr std::uint32_t kItemReportCrtime = 1u << 10;
inline constexpr std::uint32_t kItemBasisTypeFollows = 1u << 11;
inline constexpr std::uint32_t kItemXnameFollows = 1u << 12;
inline constexpr std::uint32_t kItemIsNew = 1u << 13;
inline constexpr std::uint32_t kItemLocalChange = 1u << 14;
inline constexpr std::uint32_t kItemTransfer = 1u << 15;
inline constexpr std::uint32_t kItemMissingData = 1u << 16; ///< never on the wire
inline constexpr std::uint32_t kItemDeleted = 1u << 17;     ///< never on the wire
inline constexpr std::uint32_t kItemMatched = 1u << 18;     ///< never on the wire

/// @brief The bits of an iflags value that may be sent (upstream's "iflags &= 0xffff").
inline constexpr std::uint32_t kItemWireMask = 0xffffu;

/// @brief Upstream SIGNIFICANT_ITEM_FLAGS: everything except the "something follows"
///        markers and ITEM_LOCAL_CHANGE.
inline constexpr std::uint32_t kSignificantItemFlags =
    ~(kItemBasisTypeFollows | kItemXnameFollows | kItemLocalChange);

/// @brief What the "%i" escape needs to know about one file-list entry and the session.
struct ItemizeView {
    std::uint32_t iflags = 0;           ///< ITEM_* bits (kItem*)
    std::uint32_t mode = 0;             ///< st_mode-style type and permission bits of the entry
    bool sending = false;               ///< the log operation is "send" (upstream: *op == 's')
    bool local_server = false;          ///< both ends run in one rsync invocation (local copy)
    bool preserve_mtimes = false;       ///< -t is in effect
    bool receiver_symlink_times = false; ///< the receiving side can set symlink times
};

/// @brief Builds the "%i" text exactly as upstream log.c:log_formatted does.
///
/// Regular results are 11 characters: an update type ('<' sent, '>' received, 'c' local
/// change, 'h' hard link, '.' no transfer), a file type ('f', 'd', 'L', 'D', 'S') and nine
/// attribute columns (c s t p o g u/n/b a x); new items show '+' in every column, items
/// with ITEM_MISSING_DATA (what a protocol < 29 peer implies) show '?', and unchanged
/// '.'/'c'/'h' items blank the attribute columns. A deletion (kItemDeleted) yields
/// "*deleting  ". The "ITEM_REPORT_SIZE" column is 's' for non-symlinks and always '.' for
/// symlinks; a symlink's time column is 'T' when times cannot be kept on the receiver.
/// @param view the entry's flags, its mode and the session facts the string depends on.
/// @return the itemize string (11 characters).
[[nodiscard]] std::string itemize_string(const ItemizeView& view);

/// @brief The iflags a receiver assumes for every requested file when the protocol (< 29)
///        carries none: ITEM_TRANSFER | ITEM_MISSING_DATA (upstream rsync.c:read_ndx_and_attrs).
/// @param protocol_version the negotiated protocol.
/// @return the implied flags, or 0 when the protocol (>= 29) sends the flags.
[[nodiscard]] std::uint32_t implied_item_flags(int protocol_version) noexcept;

/// @brief Upstream's protocol-29 keep-alive: an index one past the current file list with
///        iflags == ITEM_IS_NEW is not a request (rsync.c:read_ndx_and_attrs).
/// @param protocol_version the negotiated protocol.
/// @param ndx the index just read, relative to the current file list's start.
/// @param used the number of entries of the current file list.
/// @param iflags the flags read after @p ndx.
/// @return true when the pair is a keep-alive that must be skipped.
[[nodiscard]] bool is_item_keepalive(int protocol_version, std::int64_t ndx, std::int64_t used,
                                     std::uint32_t iflags) noexcept;

/// @brief The flags a generator adds when setting a symlink's time failed earlier
///        (upstream generator.c:generate_files, symlink_timeset_failed_flags): an old
///        server-side peer does not understand ITEM_REPORT_TIMEFAIL.
/// @param protocol_version the negotiated protocol.
/// @param am_server true on the server side of the connection (always, for the daemon).
/// @return ITEM_REPORT_TIME, plus ITEM_REPORT_TIMEFAIL unless an old server is talking.
[[nodiscard]] std::uint32_t symlink_timeset_failed_flags(int protocol_version, bool am_server) noexcept;

/// @brief The comparison of a file-list entry with what exists at the destination, as the
///        generator's itemize() needs it. Facts that need file-system access (ACLs, xattrs,
///        times within --modify-window) are decided by the caller and passed as booleans.
struct ItemizeCompare {
    std::uint32_t iflags = 0;       ///< flags decided so far (TRANSFER, LOCAL_CHANGE, MATCHED, ...)
    bool dest_exists = false;       ///< upstream statret >= 0 (an alt-dest match counts)
    std::uint32_t file_mode = 0;    ///< the entry's mode
    std::int64_t file_length = 0;   ///< the entry's length
    std::uint32_t dest_mode = 0;    ///< the destination's st_mode
    std::int64_t dest_size = 0;     ///< the destination's st_size
    bool preserve_mtimes = false;   ///< -t
    bool omit_dir_times = false;    ///< -O
    bool omit_link_times = false;   ///< -J
    bool time_failed = false;       ///< FLAG_TIME_FAILED on the entry (symlinks only)
    std::uint32_t timeset_failed_flags = 0; ///< symlink_timeset_failed_flags()
    bool mtime_differs = false;     ///< the destination's mtime differs (upstream mtime_differs)
    bool has_xname = false;         ///< a non-empty xname goes with ITEM_XNAME_FOLLOWS
    bool atime_differs = false;     ///< --atimes, not a dir/symlink, and the atime differs
    bool crtime_differs = false;    ///< --crtimes and the creation time differs
    bool preserve_perms = false;    ///< -p
    bool preserve_executability = false; ///< -E
    bool owner_differs = false;     ///< -o, running as root, and the uid differs
    bool group_differs = false;     ///< -g, the group is not skipped, and the gid differs
    bool acl_differs = false;       ///< -A, not a symlink, and the ACL would change
    bool xattr_differs = false;     ///< -X and the xattrs differ (or, if new, the entry has any)
};

/// @brief Computes the flags the generator reports for an entry (upstream
///        generator.c:itemize, before it decides whether to send them).
/// @param cmp the entry, the destination and the session options.
/// @return the flags, already limited to the 16 bits that can go on the wire.
[[nodiscard]] std::uint32_t compute_item_flags(const ItemizeCompare& cmp) noexcept;

/// @brief Whether the generator sends (protocol >= 29) or logs (older) an itemized entry
///        (upstream generator.c:itemize's condition, batch reading aside).
/// @param iflags the flags from compute_item_flags().
/// @param info_name_level the --info=name level (-v gives 1, -vv gives 2).
/// @param stdout_format_has_i upstream's stdout_format_has_i (2 for a "%I" from the client).
/// @param has_xname a non-empty xname accompanies the entry.
/// @return true when the entry's index and flags go to the peer (or, before protocol 29,
///         into the log).
[[nodiscard]] bool item_is_reported(std::uint32_t iflags, int info_name_level,
                                    int stdout_format_has_i, bool has_xname) noexcept;

/// @brief The server side of upstream log.c:maybe_log_item: should an entry that is not
///        being transferred produce a transfer-log line on the daemon?
/// @param iflags the entry's flags.
/// @param itemizing upstream's "itemizing" (on the server: the log format has %i).
/// @param has_hlink the entry has a non-empty hard-link/xname text.
/// @param stdout_format_has_i as in item_is_reported().
/// @param info_name_level as in item_is_reported().
/// @param dry_run -n is in effect.
/// @param logfile_format_has_i the daemon's log format has %i.
/// @return true when the daemon writes a transfer-log line for the entry.
///
/// A daemon always has a log destination (a file or syslog), so upstream's "logfile_name"
/// test is always true there; whether transfer logging is on at all is the caller's check.
[[nodiscard]] bool server_logs_untransferred_item(std::uint32_t iflags, bool itemizing, bool has_hlink,
                                                  int stdout_format_has_i, int info_name_level,
                                                  bool dry_run, bool logfile_format_has_i) noexcept;

} // namespace ocr::transfer
