// SPDX-License-Identifier: MIT
// The server side's view of the client's options (upstream's option globals) and the parser
// that fills it from a daemon argument list the way upstream options.c:parse_arguments does.
#pragma once

#include "daemon/option_table.hpp"
#include "daemon/refuse_options.hpp"

#include <array>
#include <climits>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// Upstream CLVL_NOT_SPECIFIED: no --compress-level was given.
inline constexpr int kCompressLevelNotSpecified = INT_MIN;
/// Upstream's compression numbers (rsync.h CPRES_*).
inline constexpr int kCpresAuto = -1;
inline constexpr int kCpresNone = 0;
inline constexpr int kCpresZlib = 1;
inline constexpr int kCpresZlibx = 2;
inline constexpr int kCpresLz4 = 3;
inline constexpr int kCpresZstd = 4;
/// Upstream MAX_BASIS_DIRS: at most this many --link-dest/--copy-dest/--compare-dest.
inline constexpr int kMaxBasisDirs = 20;
/// Upstream's --max-alloc default (1 GiB).
inline constexpr std::uint64_t kDefaultMaxAlloc = 1024ull * 1024 * 1024;
/// Upstream MAX_DAEMON_COMPRESSION_THREADS: a daemon caps --compress-threads here.
inline constexpr int kMaxDaemonCompressionThreads = 8;

/// @brief One filter rule that arrived as an option (the client normally sends its filter
///        rules over the wire instead; these come from -M, -F, -C-less -f, --old-dirs ...).
struct FilterOption {
    enum class Kind {
        Filter,      ///< --filter / -f, -F's rules, --old-dirs' "- /*/*": full rule syntax
        Exclude,     ///< --exclude: old-style prefixes allowed
        Include,     ///< --include: old-style prefixes allowed
        ExcludeFrom, ///< --exclude-from: a file on the server (already sanitized)
        IncludeFrom, ///< --include-from: a file on the server (already sanitized)
    };
    Kind kind = Kind::Filter;
    std::string text;
};

/// @brief The option state of one daemon session: one member per upstream global that the
///        client's arguments can set, named after it, with upstream's initial value.
///
/// Tri-state ints keep upstream's encodings (e.g. whole_file -1 = "decide later",
/// relative_paths -1 = "not given") because later stages (and the second -s batch) depend
/// on them. Members that only matter while parsing are grouped at the end.
struct ServerOptions {
    // --- roles ---
    int am_server = 0;  ///< set by --server (always sent first by real clients)
    int am_sender = 0;  ///< --sender: the daemon sends (a pull)

    // --- output and logging ---
    int verbose = 0;
    int quiet = 0;
    int msgs2stderr = 2;
    int saw_stderr_opt = 0;
    int output_motd = 1;
    int do_stats = 0;
    int human_readable = 1;
    int itemize_changes = 0;
    std::optional<std::string> stdout_format;  ///< --out-format / --log-format
    int stdout_format_has_i = 0;
    int stdout_format_has_o_or_i = 0;
    int log_before_transfer = 0;
    std::optional<std::string> logfile_name;   ///< always refused on a daemon
    std::optional<std::string> logfile_format; ///< always refused on a daemon
    std::array<short, 13> info_levels{};       ///< indexed like info_words()
    std::array<short, 24> debug_levels{};      ///< indexed like debug_words()
    int allow_8bit_chars = 0;
    std::optional<std::string> outbuf_mode;

    // --- what to transfer ---
    int dry_run = 0;
    int do_xfers = 1;     ///< 0 with --dry-run
    int list_only = 0;
    int recurse = 0;
    int allow_inc_recurse = 1;
    int xfer_dirs = -1;
    int relative_paths = -1;
    int implied_dirs = 1;
    int one_file_system = 0;
    int missing_args = 0; ///< 1 ignore, 2 delete (upstream keeps whatever bits were ORed in)
    std::optional<std::string> files_from;
    int eol_nulls = 0;    ///< --from0
    /// --files-from=- : the names come over the socket (upstream filesfrom_fd == 0).
    bool files_from_socket = false;
    /// --files-from=FILE naming a file on the server, sanitized; the parser opened it through
    /// ServerParseContext::open_files_from when one was given.
    std::optional<std::string> files_from_path;
    int use_qsort = 0;
    int prune_empty_dirs = 0;
    std::vector<FilterOption> filters;
    int cvs_exclude = 0;

    // --- what to preserve ---
    int preserve_links = 0;
    int preserve_perms = 0;
    int preserve_executability = 0;
    int preserve_acls = 0;
    int preserve_xattrs = 0;
    int preserve_mtimes = 0;
    int preserve_atimes = 0;
    int preserve_crtimes = 0;
    int open_noatime = 0;
    int omit_dir_times = 0;
    int omit_link_times = 0;
    int preserve_uid = 0;
    int preserve_gid = 0;
    int preserve_devices = 0;
    int preserve_specials = 0;
    int preserve_hard_links = 0;
    int copy_devices = 0;
    int write_devices = 0;
    int drop_devices = 0;
    int copy_links = 0;
    int copy_unsafe_links = 0;
    int safe_symlinks = 0;
    int insecure_links = 0;
    int munge_symlinks = 0;   ///< the daemon restores its own value after parsing
    int copy_dirlinks = 0;
    int keep_dirlinks = 0;
    int numeric_ids = 0;
    int am_root = 0;          ///< 2 --super, -1 --fake-super, 0 --no-super; starts as the daemon's
    std::optional<std::string> usermap;
    std::optional<std::string> groupmap;
    bool usermap_via_chown = false;
    bool groupmap_via_chown = false;
    std::vector<std::string> chmod;  ///< --chmod specs, in order (each one validated)
    std::optional<std::string> confine_root; ///< always dropped by a daemon

    // --- how to decide and transfer ---
    int ignore_times = 0;
    int size_only = 0;
    int update_only = 0;
    int ignore_non_existing = 0;
    int ignore_existing = 0;
    int modify_window = 0;
    bool modify_window_set = false;
    int always_checksum = 0;
    std::optional<std::string> checksum_choice; ///< nullopt when absent or "auto"
    std::string xfer_checksum_name;             ///< resolved --checksum-choice (if any)
    std::string file_checksum_name;             ///< resolved --checksum-choice (if any)
    int checksum_seed = 0;
    int whole_file = -1;
    int block_size = 0;
    int sparse_files = 0;
    int preallocate_files = 0;
    int inplace = 0;
    int append_mode = 0;     ///< 1 --append, 2 --append-verify (or --append twice)
    int do_fsync = 0;
    int fuzzy_basis = 0;
    std::vector<std::string> basis_dirs; ///< --link-dest/--copy-dest/--compare-dest values
    int alt_dest_type = 0;               ///< 1 compare, 2 copy, 3 link (upstream *_DEST)
    std::int64_t max_size = -1;
    std::int64_t min_size = -1;
    std::optional<std::string> max_size_arg;  ///< normalized to plain digits when valid
    std::optional<std::string> min_size_arg;
    std::optional<std::string> max_alloc_arg;
    std::uint64_t max_alloc = kDefaultMaxAlloc;

    // --- compression ---
    int do_compression = 0;   ///< a count of -z while parsing, then a kCpres* value
    std::optional<std::string> compress_choice;
    std::optional<std::string> skip_compress;
    int do_compression_level = kCompressLevelNotSpecified;
    int do_compression_threads = 0;

    // --- deletion ---
    int delete_mode = 0;
    int delete_before = 0;
    int delete_during = 0; ///< 1 during, 2 delay
    int delete_after = 0;
    int delete_excluded = 0;
    int force_delete = 0;
    int ignore_errors = 0;
    int max_delete = INT_MIN; ///< INT_MIN = no limit; negative values become 0 (no deletions)
    int remove_source_files = 0; ///< 1 --remove-source-files, 2 --remove-sent-files

    // --- partial files, backups, temp files ---
    int keep_partial = 0;
    std::optional<std::string> partial_dir;
    int delay_updates = 0;
    int do_progress = 0;
    int make_backups = 0;
    std::optional<std::string> backup_dir;   ///< with a trailing '/', as upstream's backup_dir_buf
    std::optional<std::string> backup_suffix; ///< "~" by default ("" with --backup-dir)
    int backup_dir_len = 0;                  ///< -1: --backup-dir named the destination itself
    std::optional<std::string> tmpdir;       ///< --temp-dir (or the module's "temp dir")
    int mkpath_dest_arg = 0;

    // --- connection ---
    int io_timeout = 0;
    int connect_timeout = 0;
    int bwlimit = 0;                      ///< KiB/s (before the daemon's own cap)
    std::optional<std::string> bwlimit_arg; ///< bytes/s, plain digits
    std::int64_t stop_at_utime = 0;
    int protocol_version = 32;            ///< starts as the negotiated value; --protocol sets it
    int blocking_io = -1;
    int default_af_hint = 0;
    int rsync_port = 0;
    std::optional<std::string> shell_cmd;  ///< the -e argument: the client's capability string
    std::optional<std::string> rsync_path;
    std::optional<std::string> bind_address;
    std::optional<std::string> sockopts;
    std::optional<std::string> password_file;
    std::optional<std::string> early_input_file;
    std::optional<std::string> copy_as;
    std::optional<std::string> iconv_opt;
    int need_unsorted_flist = 0;
    int trust_sender = 0;
    int trust_sender_args = 0;
    int trust_sender_filter = 0;
    int need_messages_from_generator = 0;

    // --- batches and argument style ---
    std::optional<std::string> batch_name;
    int read_batch = 0;
    int write_batch = 0;  ///< 1 --write-batch, -1 --only-write-batch
    int old_style_args = -1;
    int protect_args = -1; ///< 1 after -s in the first batch, 2 while parsing the second
    std::vector<std::string> remote_options; ///< -M values (meaningless on a server)

    // --- non-option arguments ---
    /// The non-option arguments in order (upstream's argv after parsing): normally "."
    /// followed by the path patterns. Upstream's server code takes args[0] as a directory.
    std::vector<std::string> args;
    /// args without its first element: the path arguments, module-name handling applied.
    std::vector<std::string> paths;

    // --- parser bookkeeping (upstream statics) ---
    int version_opt_cnt = 0;
    int f_option_cnt = 0;
    std::array<std::uint8_t, 13> info_priority{};
    std::array<std::uint8_t, 24> debug_priority{};
};

/// @brief How a parse ended.
enum class ParseOutcome {
    Ok,          ///< all options accepted
    OptionError, ///< upstream's err_buf case: sent to the client after protocol setup, exit 4
    Exit,        ///< upstream exits during parsing: logged only, the client sees a close
};

/// @brief Result of parse_server_args().
struct OptionParseResult {
    bool ok = false;
    ParseOutcome outcome = ParseOutcome::OptionError;
    /// The state the options reached. On failure this is the state upstream's globals were
    /// in when it stopped, which its error path still uses (protocol setup, the files-from
    /// byte, see files_from_seen).
    ServerOptions options;
    /// OptionError: upstream's err_buf without its trailing newline, e.g.
    /// "The server is configured to refuse --compress (-z)". Exit: the logged line.
    std::string error;
    /// OptionError: the exact MSG_ERROR payload upstream sends, "rsync: " + err_buf
    /// (normally ending in "\n"; err_buf holds at most 199 bytes). Upstream also writes it
    /// to the daemon log.
    std::string client_message;
    /// Lines upstream writes to the daemon log while parsing (no trailing newline), e.g.
    /// "ignoring --write-batch option sent to server".
    std::vector<std::string> log_lines;
    /// 0 on success; RERR_UNSUPPORTED (4) for OptionError; upstream's code for Exit.
    int exit_code = 0;
    /// -s/--secluded-args was seen in the first batch: read the second batch
    /// (NUL-terminated, not unescaped) and call parse_secluded_args().
    bool wants_second_batch = false;
    /// Upstream logs "rsync on|to REQUEST from ..." only when parsing returned (Ok or
    /// OptionError); an Exit happens before that line.
    bool log_request = true;
    /// For upstream's error path on a receiving server: a --files-from option was seen
    /// (parsed, or any argument starting with "--files-from"), so upstream writes one 0 byte
    /// before starting to multiplex. Valid when !ok.
    bool files_from_seen = false;
};

/// @brief What the parse depends on besides the arguments and the refused set.
struct ServerParseContext {
    /// The negotiated protocol (upstream's protocol_version when parsing starts).
    int protocol_version = 32;
    /// Upstream's am_server before parsing: false for a TCP daemon (it becomes true at the
    /// client's --server), true for a daemon run over a remote shell ("rsync --server --daemon").
    bool am_server = false;
    /// Upstream's am_root when parsing starts: 1 when the session runs as root.
    int am_root = 0;
    /// The module's "temp dir" (upstream presets tmpdir with it; --temp-dir overrides it).
    std::optional<std::string> module_temp_dir;
    /// Upstream sanitize_paths: set when module_dirlen != 0 (use chroot = no, or /./).
    bool sanitize_paths = false;
    /// Upstream module_dir (replaces a leading "/" when sanitizing).
    std::string module_dir;
    /// Upstream module_dirlen (0 for a plain chroot module).
    std::size_t module_dirlen = 0;
    /// The module's daemon filter: returns true when it excludes @p path (a module-relative
    /// name, upstream check_filter() < 0). Empty = the module has no filter rules.
    std::function<bool(std::string_view path, bool is_dir)> daemon_excludes;
    /// Opens a --files-from file on the server (confined to the module); returns the
    /// strerror() text on failure. Empty = do not open (the caller opens it later).
    std::function<std::optional<std::string>(const std::string& path)> open_files_from;
    /// Build features (ACLs, xattrs, iconv ...). Use the same value as for the RefuseSet.
    BuildFeatures features{};
    /// Current time for --stop-after/--stop-at; 0 = the system clock.
    std::int64_t now = 0;
};

/// @brief Parses the first (or only) argument batch: upstream options.c:parse_arguments as
///        a daemon runs it, including popt's rules (exact long names only, "--opt=val" and
///        "--opt val", bundled short options with an attached value such as -B1024 or
///        -e.iLsfxCIvu, "--" ends options, "!#:+" in a value takes the next plain argument),
///        each option's side effects and every check that can fail on a server.
/// @param args The argv from process_daemon_args() (args[0] is skipped, as popt does).
/// @param refused The module's refused options.
/// @param ctx Protocol, module and build facts.
/// @return The options and how the parse ended.
[[nodiscard]] OptionParseResult parse_server_args(const std::vector<std::string>& args,
                                                  const RefuseSet& refused,
                                                  const ServerParseContext& ctx);

/// @brief Convenience form: a TCP daemon module with no temp dir, chroot, no daemon filter.
[[nodiscard]] OptionParseResult parse_server_args(const std::vector<std::string>& args,
                                                  const RefuseSet& refused,
                                                  int protocol_version);

/// @brief Parses the second batch of a -s session, continuing from the first batch's state
///        (upstream runs parse_arguments again on the same globals with protect_args = 2).
/// @param args The second batch's argv (its args[0], "rsync", is skipped).
/// @param refused The module's refused options.
/// @param ctx As for the first batch.
/// @param first The first batch's result (must have wants_second_batch).
/// @throw std::invalid_argument when @p first did not ask for a second batch.
[[nodiscard]] OptionParseResult parse_secluded_args(const std::vector<std::string>& args,
                                                    const RefuseSet& refused,
                                                    const ServerParseContext& ctx,
                                                    const OptionParseResult& first);

/// @brief Upstream options.c:limit_output_verbosity: caps every --info/--debug level at
///        what -v repeated @p level times would give ("max verbosity" of the module).
void limit_output_verbosity(ServerOptions& options, int level);

/// @brief Upstream options.c:parse_size_arg. @p def_suffix applies when no suffix is given;
///        "k/m/g/t/p" multiply by 1024 ("kb" by 1000, "kib" by 1024), "+1"/"-1" adjust.
/// @param arg The value as given.
/// @param def_suffix Default suffix letter ('b' bytes, 'K' KiB, 'B' ...).
/// @param opt_name The long option name for the error text.
/// @param min_value Smallest accepted value.
/// @param max_value Largest accepted value, or -1 for none.
/// @param unlimited_0 0 is accepted below @p min_value (it means "unlimited").
/// @param[out] err On failure upstream's err_buf text, e.g.
///        "--block-size=999999999 is too large (max: 128.00K)\n".
/// @return The size, or -1 on failure.
[[nodiscard]] std::int64_t parse_size_arg(std::string_view arg, char def_suffix,
                                          std::string_view opt_name, std::int64_t min_value,
                                          std::int64_t max_value, bool unlimited_0,
                                          std::string& err);

/// @brief Upstream lib/compat.c:do_big_num in the C locale: @p human_flag 0 prints plain
///        digits, 1 adds "," every three digits, 2 and 3 scale by 1000/1024 with K/M/G/T/P.
[[nodiscard]] std::string do_big_num(std::int64_t num, int human_flag);

/// @brief Upstream chmod.c:parse_chmod's syntax check ("D/F", "ugoa", "+-=", "rwxXst",
///        "ugo" copies, octal numbers, comma lists).
[[nodiscard]] bool chmod_spec_valid(std::string_view spec) noexcept;

/// @brief Upstream log.c:log_format_has: does @p format use the escape %@p esc?
[[nodiscard]] bool log_format_has(const std::optional<std::string>& format, char esc) noexcept;

/// @brief Upstream options.c:check_for_hostspec (with a port pointer): does @p s name a
///        host ("host:path", "host::path", "rsync://host/path")?
[[nodiscard]] bool names_remote_host(std::string_view s);

} // namespace ocr::daemon
