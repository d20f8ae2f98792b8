// SPDX-License-Identifier: MIT
// Transfer-log lines: the "log format" / --out-format "%" escapes and the end-of-session totals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief Upstream MAXPATHLEN: a format longer than this is refused, and one expanded
///        field (a name, a padded value) is cut to one byte less.
inline constexpr std::size_t kLogMaxPathLength = 4096;
/// @brief Upstream log_formatted's line buffer (MAXPATHLEN + 1024): the expanded line plus
///        its newline must stay below this.
inline constexpr std::size_t kLogLineBufferSize = kLogMaxPathLength + 1024;

/// @brief Facts about the session that several escapes show. Optional members are absent
///        outside a daemon; upstream then leaves that escape as literal text.
struct LogSession {
    std::optional<std::string> remote_addr; ///< %a: the client's address
    /// %h: the client's name; a daemon passes "UNDETERMINED" when the module has
    /// "reverse lookup = no" (upstream undetermined_hostname).
    std::optional<std::string> remote_host;
    std::string module_name;                ///< %m (upstream prints "" outside a daemon)
    std::optional<std::string> module_path; ///< %P: the module's path as configured
    std::optional<std::string> auth_user;   ///< %u: "" for a module without auth users
    /// %p: upstream prints getpid() of the process that formats the line; for a push that
    /// is the receiver, whose pid differs from the "[pid]" its generator puts in front.
    long pid = 0;
    std::time_t now = 0;                    ///< %t: the current time
    bool am_sender = false;                 ///< this side sends files (a daemon: a pull)
    bool local_server = false;              ///< a local copy: '>' instead of '<' in %i
    bool preserve_mtimes = false;           ///< -t (for %i)
    bool receiver_symlink_times = false;    ///< for %i of symlinks
    bool always_checksum = false;           ///< -c (for %C)
    /// %C's blank width in bytes when no sum is shown: upstream csum_len_for_type() of the
    /// file-list checksum (with -c, as a file-list sum) or of the transfer checksum.
    std::size_t checksum_length = 16;
};

/// @brief One file-list entry (or deleted name) to log, as upstream's log_formatted sees it.
struct LogItem {
    std::string op;                         ///< %o: "send", "recv" or "del."
    /// The name: upstream f_name() of the entry (dir and base joined), or the deleted
    /// name (then iflags has kItemDeleted and %L shows no symlink target).
    std::string name;
    /// The sender's F_PATHNAME of the entry (the directory its file-list part was built
    /// in); %f on a sending side joins it in front of the name.
    std::optional<std::string> sender_dir;
    /// Only on a daemon: the current directory relative to the module (upstream
    /// curr_dir + module_dirlen, e.g. "" or "/sub"); %f joins it in front of a relative name
    /// when no sender_dir applies.
    std::optional<std::string> daemon_dir;
    std::uint32_t mode = 0;                 ///< type and permission bits (%B, %n's "/", %i)
    std::int64_t length = 0;                ///< %l
    std::time_t mtime = 0;                  ///< %M
    std::optional<std::uint32_t> uid;       ///< %U (absent without -o: prints 0)
    std::optional<std::uint32_t> gid;       ///< %G (absent without -g or skipped: "DEFAULT")
    std::string symlink_target;             ///< %L " -> target" for symlinks
    std::string hlink;                      ///< %L " => name" (hard link or xname); wins over a symlink
    std::uint32_t iflags = 0;               ///< kItem* flags (%i, %b/%c, %C)
    std::int64_t bytes_written = 0;         ///< bytes this side wrote for the file (%b/%c)
    std::int64_t bytes_read = 0;            ///< bytes this side read for the file (%b/%c)
    /// %C with -c: the file-list sum as hex, nullopt for a non-canonical (salted) sum.
    std::optional<std::string> file_sum_hex;
    /// %C after a transfer: the whole-file transfer sum as hex, nullopt if non-canonical.
    std::optional<std::string> xfer_sum_hex;
};

/// @brief The result of expanding a format: the line, or upstream's fatal error text.
struct LogLine {
    std::string text;  ///< the expanded line without a newline; empty when error is set
    /// Non-empty when upstream would print this error (FERROR) and exit with
    /// RERR_MESSAGEIO (13): "log-format string is WAY too long!" or
    /// "buffer overflow expanding %X -- exiting".
    std::string error;
    [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// @brief Expands @p format for one item as upstream log.c:log_formatted does.
///
/// Escapes: %a %b %B %c %C %f %G %h %i %l %L %m %M %n %o %p %P %t %u %U and %%. Between
/// '%' and the letter: apostrophes (each one raises the human-readable level of %l, %b and
/// %c: 1 adds thousands commas, 2 scales by 1000 with K/M/G/T/P, 3+ by 1024), an optional
/// '-' (left-justify) and a decimal width (at most 23 characters of '-' and digits;
/// leading zeros zero-pad %p, %U and a numeric %G, and are ignored elsewhere, as printf
/// does). Any other letter, and %a %h %P %u whose value is absent, stays in the text
/// unchanged. The result is what the caller hands to its log sink: a daemon's log file
/// writes it after "YYYY/MM/DD hh:mm:ss [pid] " with control characters escaped as
/// "\#ooo" (upstream log.c:logit), syslog gets it as is.
/// @param format the "log format" / --out-format text.
/// @param session session-wide values.
/// @param item the entry being logged.
/// @return the line, or the error upstream would exit with.
[[nodiscard]] LogLine render_log_format(std::string_view format, const LogSession& session,
                                        const LogItem& item);

/// @brief What upstream's log file gets for a line (log.c:logit, filtered_fwrite with
///        escape_c1): bytes below 0x20 except tab and bytes 0x80-0x9f become "\#ooo", and a
///        backslash that starts "\#" plus three digits becomes "\#134" so that the result
///        cannot be mistaken for an escape. Syslog gets the text unchanged.
/// @param text a line without its newline (e.g. LogLine::text).
[[nodiscard]] std::string escape_log_file_text(std::string_view text);

/// @brief Upstream log.c:log_format_has: does @p format use the escape @p esc (after any
///        apostrophes, '-' and width)? "%%" is skipped as a literal percent.
/// @param format a log format (it ends at a NUL byte, as upstream's C string does).
/// @param esc the escape letter, e.g. 'i'.
/// @return true when render_log_format() would expand @p esc somewhere in @p format.
[[nodiscard]] bool log_format_has(std::string_view format, char esc) noexcept;

/// @brief The daemon's transfer-log settings for one session (upstream
///        clientserver.c:rsync_module).
struct TransferLogFormat {
    std::optional<std::string> format; ///< upstream logfile_format (nullopt: no transfer log)
    bool has_i = false;                ///< upstream logfile_format_has_i
    bool has_o_or_i = false;           ///< upstream logfile_format_has_o_or_i

    /// @brief Whether transferred/itemized entries are logged (upstream log_item:
    ///        a non-empty format).
    [[nodiscard]] bool logs_items() const noexcept { return format && !format->empty(); }

    /// @brief The format upstream log.c:log_delete uses for a deletion: the log format when
    ///        it has %o or %i, else "deleting %n"; nullopt when nothing is logged (no format
    ///        or a dry run). An empty --log-file-format still logs "deleting %n".
    [[nodiscard]] std::optional<std::string> delete_format(bool dry_run) const;
};

/// @brief Decides the session's transfer-log format.
/// @param daemon_log_file_format the daemon's own --log-file-format, if given (it applies
///        to every module and turns the log on even without "transfer logging").
/// @param transfer_logging the module's "transfer logging".
/// @param module_log_format the module's "log format" (default "%o %h [%a] %m (%u) %f %l").
/// @return the format (if any) and whether it has %i, %o.
[[nodiscard]] TransferLogFormat resolve_transfer_log_format(
    const std::optional<std::string>& daemon_log_file_format, bool transfer_logging,
    std::string_view module_log_format);

/// @brief A deleted name as upstream log.c:log_delete presents it: only the name and mode
///        are known; everything else reads as zero, op is "del.", iflags kItemDeleted.
/// @param name the name relative to the transfer root.
/// @param mode the deleted entry's mode (its type is what matters: "/" for %n of a dir).
/// @param preserve_gid -g is in effect: %G then shows the placeholder's 0, not "DEFAULT".
/// @return the item; the caller adds daemon_dir for %f.
[[nodiscard]] LogItem make_delete_item(std::string name, std::uint32_t mode, bool preserve_gid);

/// @brief The line a daemon logs at the end of a session (upstream log.c:log_exit):
///        "sent N bytes  received M bytes  total size T" with plain digits.
[[nodiscard]] std::string session_totals_line(std::int64_t total_written, std::int64_t total_read,
                                              std::int64_t total_size);

/// @brief Upstream lib/compat.c:do_big_num (thousands separator ','; decimal point '.').
/// @param num the value.
/// @param human_flag 0 plain digits, 1 commas every three digits, 2 units of 1000
///        ("1.50K"), 3 or more units of 1024; numbers below the unit stay plain digits.
[[nodiscard]] std::string format_big_num(std::int64_t num, int human_flag);

/// @brief Upstream util1.c:timestring in local time: "YYYY/MM/DD hh:mm:ss", or
///        "(time out of range)".
[[nodiscard]] std::string format_timestring(std::time_t t);

/// @brief Upstream lib/permstring.c:permstring: 10 characters like "drwxr-sr-t".
[[nodiscard]] std::string permission_string(std::uint32_t mode);

/// @brief Upstream util2.c:sum_as_hex's digits: @p sum as lower-case hex, byte order
///        reversed for checksums stored little-endian (the xxhash family).
/// @param sum the checksum bytes as computed.
/// @param reversed true for xxh64/xxh3 (upstream canonical_checksum() > 0).
[[nodiscard]] std::string checksum_hex(std::span<const std::uint8_t> sum, bool reversed);

} // namespace ocr::transfer
