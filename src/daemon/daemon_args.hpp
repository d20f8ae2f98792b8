// SPDX-License-Identifier: MIT
// The client's argument list after "@RSYNCD: OK": reading it (sans I/O) and the string work
// upstream's io.c:read_args does on it (argv[0], unescaping, module prefixes, the request).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// Upstream MAX_DAEMON_ARGS (MAX_ARGS * 16): the bound on a daemon's argv, argv[0] included.
inline constexpr std::size_t kMaxDaemonArgs = 16000;
/// Upstream reads each argument into a BIGPATHBUFLEN (4096 + 1024 on Linux) buffer, so an
/// argument keeps at most this many bytes; the rest of it is read and dropped.
inline constexpr std::size_t kMaxDaemonArgLen = 5119;
/// The text upstream logs (and exits with kTooManyArgsExit) when the bound is hit.
inline constexpr std::string_view kTooManyArgsText = "too many daemon arguments";
/// Upstream exits with RERR_PROTOCOL for too many arguments; the client gets no message.
inline constexpr int kTooManyArgsExit = 2;

/// @brief Incremental, bounded reader of one argument batch (upstream io.c:read_line as
///        read_args uses it). No I/O of its own: feed it bytes, it says when the list ends.
///
/// With NUL termination (protocol >= 30, and always for the -s second batch) each argument
/// ends at a NUL byte. Otherwise an argument ends at LF *or* CR, so "a\r\n" is "a" followed by
/// an empty argument, which ends the list, as it does upstream. An empty argument ends the
/// list and is not returned. An argument longer than @p max_arg_len keeps its first
/// @p max_arg_len bytes. When the batch would grow past the upstream argv bound the reader
/// stops with error() = "too many daemon arguments".
class DaemonArgReader {
public:
    /// @brief Prepares to read one batch.
    /// @param nul_terminated NUL-terminated arguments (protocol >= 30 or the -s batch).
    /// @param max_args Upstream's argv bound (MAX_DAEMON_ARGS).
    /// @param max_arg_len Bytes kept of one argument.
    /// @param preceding_args argv entries that exist before the first argument read: 1 for the
    ///        first batch (upstream puts "rsyncd" there), 0 for the -s batch.
    explicit DaemonArgReader(bool nul_terminated, std::size_t max_args = kMaxDaemonArgs,
                             std::size_t max_arg_len = kMaxDaemonArgLen,
                             std::size_t preceding_args = 1);

    /// @brief Consumes bytes of @p input up to and including the list terminator.
    /// @return How many bytes were consumed; after done() (or an error) it consumes nothing.
    std::size_t feed(std::string_view input);

    /// @brief The client closed its side: what was read of an argument is one more
    ///        argument, and the list ends there (as upstream's read_line does at EOF).
    void finish_at_eof();

    /// @brief The terminating empty argument has been read (and no error occurred).
    [[nodiscard]] bool done() const noexcept { return done_; }
    /// @brief Upstream's error text once the bound was hit ("too many daemon arguments").
    [[nodiscard]] std::optional<std::string> error() const;
    /// @brief The arguments read so far (without the terminator); leaves the reader empty.
    [[nodiscard]] std::vector<std::string> take();
    /// @brief Bytes of the argument being read right now (for a caller's own bounds).
    [[nodiscard]] std::size_t pending_bytes() const noexcept { return current_.size(); }

private:
    void end_argument();

    bool nul_terminated_;
    std::size_t max_args_;
    std::size_t max_arg_len_;
    std::size_t preceding_args_;
    bool done_ = false;
    bool failed_ = false;
    std::string current_;
    std::vector<std::string> args_;
};

/// @brief Upstream io.c:unbackslash_arg: "\X" becomes "X"; a trailing lone backslash stays.
[[nodiscard]] std::string unbackslash_arg(std::string_view arg);

/// @brief Flags of clean_fname() (upstream rsync.h CFN_*).
enum CleanFlags : unsigned {
    kCfnKeepDotDirs = 1u << 0,
    kCfnKeepTrailingSlash = 1u << 1,
    kCfnDropTrailingDotDir = 1u << 2,
    kCfnCollapseDotDotDirs = 1u << 3,
    kCfnRefuseDotDotDirs = 1u << 4,
};

/// @brief Upstream util1.c:clean_fname: drops duplicate slashes and (unless kCfnKeepDotDirs)
///        interior "." components, optionally collapses or refuses "..", drops a trailing
///        slash unless asked to keep it, and turns an empty result into ".".
/// @return The cleaned name, or nullopt when kCfnRefuseDotDotDirs found a ".." component.
[[nodiscard]] std::optional<std::string> clean_fname(std::string_view name, unsigned flags);

/// @brief Upstream util1.c:sanitize_path: makes @p path look as if a chroot had happened. A
///        leading "/" is replaced by @p rootdir (pass the module directory where upstream
///        passes NULL, "" to drop it, "/" to keep it), "." components are dropped unless
///        @p keep_dot_dirs and @p relative_paths, and ".." never climbs above the start except
///        for the first @p depth ones. A trailing slash is kept; an empty result becomes ".".
/// @param path The path as the client sent it.
/// @param rootdir Replacement for a leading slash.
/// @param depth Leading ".." components that may stay.
/// @param keep_dot_dirs Upstream SP_KEEP_DOT_DIRS.
/// @param relative_paths Upstream's relative_paths is non-zero (it is -1 before parsing).
/// @param max_len When set, nullopt is returned if rootdir + path would not fit a
///        buffer of this size (upstream's MAXPATHLEN check when writing into a buffer).
[[nodiscard]] std::optional<std::string> sanitize_path(std::string_view path,
                                                       std::string_view rootdir, int depth,
                                                       bool keep_dot_dirs, bool relative_paths,
                                                       std::optional<std::size_t> max_len = {});

/// @brief True when @p path holds a character that makes upstream glob it ("*", "?", "[").
[[nodiscard]] bool has_glob_chars(std::string_view path) noexcept;

/// @brief Upstream util1.c:glob_expand_module without the filesystem part: the module-name
///        prefix is stripped (a plain byte compare with the module name, so "mod/x" becomes
///        "/x"), an old-style argument is split at each " MOD/" (not for the -s batch), and
///        every piece is cleaned the way glob_expand() does before it globs. An empty
///        @p arg yields nothing.
/// @param module The module name.
/// @param arg One path argument as received.
/// @param secluded_batch Parsing the -s batch (upstream's protect_args is set).
/// @param sanitize_paths The module needs sanitizing (upstream module_dirlen != 0).
/// @param relative_paths Upstream's relative_paths is non-zero at this point.
/// @return The path patterns, in order. A pattern with has_glob_chars() is replaced by its
///         matches (in readdir order, daemon-excluded names skipped) when the worker globs
///         it against the module, and kept as is when nothing matches; any other pattern
///         is final (upstream adds it whether or not it exists).
[[nodiscard]] std::vector<std::string> module_path_patterns(std::string_view module,
                                                            std::string_view arg,
                                                            bool secluded_batch,
                                                            bool sanitize_paths,
                                                            bool relative_paths);

/// @brief How process_daemon_args() treats one batch.
struct DaemonArgContext {
    std::string module;          ///< the module name
    bool secluded_batch = false; ///< the second (-s) batch: no "rsyncd", no unescaping
    bool sanitize_paths = false; ///< upstream module_dirlen != 0 ("use chroot = no" or /./)
    bool relative_paths = true;  ///< upstream relative_paths != 0 when the batch is read
    std::size_t max_args = kMaxDaemonArgs;
};

/// @brief The argv upstream's read_args builds for one batch.
struct ProcessedArgs {
    bool ok = true;
    /// "too many daemon arguments" when the argv bound was hit (logged only; exit
    /// kTooManyArgsExit, the client sees the connection close).
    std::string error;
    /// "rsyncd" first (first batch only), then the options (unescaped in the first batch),
    /// ".", then the path patterns from module_path_patterns().
    std::vector<std::string> argv;
    /// Index in argv of the first entry after "." (upstream dot_pos); 0 when no "." came.
    std::size_t dot_pos = 0;
    /// What upstream logs as "rsync on|to REQUEST from ...": the raw path arguments joined
    /// by spaces (appending stops once it reaches 1024 bytes); nullopt when there were none,
    /// in which case upstream logs no such line and RSYNC_REQUEST is "(NONE)".
    std::optional<std::string> request;
};

/// @brief Upstream io.c:read_args' processing of one batch read by DaemonArgReader.
[[nodiscard]] ProcessedArgs process_daemon_args(const std::vector<std::string>& raw,
                                                const DaemonArgContext& ctx);

/// @brief Environment of the "pre-xfer exec" hook that comes from the arguments (upstream
///        clientserver.c:write_pre_exec_args and start_pre_exec).
struct PreExecArgs {
    std::string request;            ///< RSYNC_REQUEST ("(NONE)" without path arguments)
    std::vector<std::string> args;  ///< RSYNC_ARG0, RSYNC_ARG1, ...
};

/// @brief Builds RSYNC_REQUEST and RSYNC_ARGn. Upstream passes the argv of read_args (after
///        globbing) for each batch: with -s the first batch, then the second batch without
///        its argv[0] ("rsync"). Each value keeps at most kMaxDaemonArgLen bytes and, as
///        upstream, an empty value ends the list.
/// @param request The request of the last batch read (ProcessedArgs::request).
/// @param first_batch The first batch's argv when -s was used, else nullptr.
/// @param argv The (only or second) batch's argv.
[[nodiscard]] PreExecArgs pre_exec_args(const std::optional<std::string>& request,
                                        const std::vector<std::string>* first_batch,
                                        const std::vector<std::string>& argv);

} // namespace ocr::daemon
