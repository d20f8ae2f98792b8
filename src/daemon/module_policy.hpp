// SPDX-License-Identifier: MIT
// What a daemon decides after the options are parsed: module overrides, read/write-only
// refusals, the timeout and bandwidth caps, and the protocol-setup plan (compat flags and
// name negotiations) that depends on the options.
#pragma once

#include "daemon/server_options.hpp"
#include "daemon/upstream_text.hpp"

#include <optional>
#include <string>

namespace ocr::daemon {

/// @brief A reason upstream stops the session instead of transferring.
struct Rejection {
    /// The text as upstream emits it, with its trailing newline, e.g. "ERROR: module is read
    /// only\n". When sent_to_client, it goes to the client as one MSG_ERROR (after protocol
    /// setup and the start of multiplexing) and into the daemon log.
    std::string message;
    /// Upstream's exit code (RERR_SYNTAX 1, RERR_PROTOCOL 2, ...).
    int exit_code = 1;
    /// False when upstream emits the text before multiplexing starts: then only the log
    /// sees it (or, for the --crtimes check, nobody) and the client sees the connection close.
    bool sent_to_client = true;
};

/// @brief Upstream main.c:do_server_sender / do_server_recv refusals of a daemon module.
///
/// Sending (o.am_sender): a write-only module refuses ("ERROR: module is write only"), then a
/// read-only module refuses --remove-source-files / --remove-sent-files ("ERROR:
/// --remove-source-files cannot be used with a read-only module"), then an empty argument
/// list is an error ("ERROR: do_server_sender called without args"). Receiving: a read-only
/// module refuses ("ERROR: module is read only"). All exit with RERR_SYNTAX (1).
///
/// Upstream order matters to the wire: a sending daemon reads the client's filter list
/// before these checks, a receiving one checks before reading anything.
/// @param o The parsed options.
/// @param read_only The module is read only (after any "auth users" :ro / :rw override).
/// @param write_only The module's "write only".
/// @return The refusal, or nullopt when the transfer may go on.
[[nodiscard]] std::optional<Rejection> check_module_policy(const ServerOptions& o, bool read_only,
                                                           bool write_only);

/// @brief Where upstream exits for a refusal check_module_policy() made, and as which
///        process (the sender's checks in main.c:do_server_sender, the receiver's in
///        do_server_recv).
[[nodiscard]] UpstreamSite policy_refusal_site(const Rejection& refusal, UpstreamRole& role);

/// @brief Module settings upstream's rsync_module() applies to the parsed options.
struct ModuleOverrides {
    /// "open noatime": -1 unset (the client decides), 0 false, 1 true.
    int open_noatime = -1;
    /// The daemon's own munge-symlinks decision (the client may not change it).
    int munge_symlinks = 0;
    /// A TCP daemon (not one run over a remote shell): messages never go to stderr.
    bool tcp_daemon = true;
    bool ignore_errors = false; ///< "ignore errors"
    bool fake_super = false;    ///< "fake super"
    int max_verbosity = 1;      ///< "max verbosity"
    bool use_chroot = true;     ///< the module ended up chrooted (upstream use_chroot)
    /// "numeric ids": -1 unset, 0 false, 1 true.
    int numeric_ids = -1;
    bool name_converter = false; ///< "name converter" is set
    int timeout = 0;             ///< the module's "timeout"
};

/// @brief Applies upstream rsync_module()'s post-parse adjustments, in its order: open
///        noatime, munge symlinks, msgs2stderr, quiet, ignore errors, --only-write-batch
///        implying a dry run, fake super (and --fake-super from a client acting as --super),
///        the verbosity cap, numeric ids (-1 = "numeric without telling the client"), and
///        the module timeout. Call it only for a successful parse.
void apply_module_overrides(ServerOptions& o, const ModuleOverrides& m);

/// @brief Whether a module's ids stay numeric whatever the client asks: "numeric ids",
///        which defaults to yes in a chroot (unless a name converter is set) and to no
///        outside one (upstream clientserver.c:rsync_module).
/// @param numeric_ids -1 unset, 0 false, 1 true.
[[nodiscard]] bool module_ids_numeric(bool chrooted, int numeric_ids, bool name_converter) noexcept;

/// @brief Upstream's timeout rule: the module's timeout wins when it is set and the client
///        asked for none or for a longer one.
[[nodiscard]] int effective_timeout(int client_timeout, int module_timeout) noexcept;

/// @brief Upstream's --bwlimit rule: the daemon's own --bwlimit caps the client's (0 = none).
/// @return The KiB/s limit to apply (0 = unlimited).
[[nodiscard]] int effective_bwlimit(int client_bwlimit, int daemon_bwlimit) noexcept;

/// @brief Bytes per write when limiting bandwidth (upstream bwlimit_writemax).
[[nodiscard]] std::size_t bwlimit_writemax(int bwlimit) noexcept;

/// @brief Capabilities of our own build that appear in the compat flags.
struct ServerCapabilities {
    bool symlink_times = true; ///< CAN_SET_SYMLINK_TIMES: CF_SYMLINK_TIMES
    bool symlink_iconv = true; ///< ICONV_OPTION: CF_SYMLINK_ICONV (Debian sets both)
};

/// @brief Upstream compat.c:set_allow_inc_recurse on a daemon: may this session use
///        incremental recursion? Needs recursion, no --qsort, the client's "i" letter, and
///        for a receiving server none of --delete-before/--delete-after/--delay-updates/-m.
[[nodiscard]] bool allow_inc_recurse(const ServerOptions& o, bool server_is_sender);

/// @brief The compat-flags value upstream's setup_protocol() sends (protocol >= 30), from the
///        letters of the client's -e string and the options; 0 below protocol 30.
[[nodiscard]] int compute_compat_flags(const ServerOptions& o, int protocol, bool server_is_sender,
                                       const ServerCapabilities& caps = {});

/// @brief Everything setup_protocol() decides from the options.
struct ProtocolSetupPlan {
    /// Upstream exits inside setup_protocol (texts such as "--acls requires protocol 30 or
    /// higher (negotiated 29).\n"); these come before multiplexing, so only the log sees them.
    std::optional<Rejection> rejection;
    int protocol = 32;               ///< the protocol in force (a client's --protocol sets it)
    bool send_compat_flags = false;  ///< protocol >= 30
    /// The client sent the pre-release "V" letter: write one byte, (compat_flags & 0xff),
    /// instead of a varint (upstream write_byte truncates 0x1ff to 0xff).
    bool compat_flags_as_byte = false;
    int compat_flags = 0;
    bool inc_recurse = false;
    bool varint_flist_flags = false;  ///< CF_VARINT_FLIST_FLAGS
    bool negotiated_strings = false; ///< the client sent "v": name lists are exchanged
    bool exchange_checksum_list = false; ///< both sides send a checksum list (no --checksum-choice)
    bool exchange_compress_list = false; ///< both send a compress list (compressing, no choice)
    /// A --only-write-batch server offers only this checksum list ("md5" / "md4") ...
    std::optional<std::string> forced_checksum_list;
    /// ... and only this compression list ("zlib").
    std::optional<std::string> forced_compress_list;
    /// The seed to announce when non-zero (the client's --checksum-seed); 0 = pick one.
    int checksum_seed = 0;
    bool use_safe_inc_flist = false;  ///< CF_SAFE_FLIST or protocol >= 31
    bool want_xattr_optim = false;    ///< protocol >= 31 without CF_AVOID_XATTR_OPTIM
    bool proper_seed_order = false;   ///< CF_CHKSUM_SEED_FIX
    bool xmit_id0_names = false;      ///< CF_ID0_NAMES
    bool inplace_partial = false;     ///< CF_INPLACE_PARTIAL_DIR
    bool receiver_symlink_times = false; ///< sending server: the client sent "L"
    bool sender_symlink_iconv = false;   ///< --iconv and the client sent "s"
};

/// @brief Upstream compat.c:setup_protocol as a daemon server runs it, minus the I/O. It
///        also applies the option changes setup_protocol makes: --append becomes
///        --append-verify below protocol 30, --delete picks "before" (< 30) or "during",
///        msgs2stderr is cleared for protocol <= 28 unless the client chose.
/// @param o The parsed options (updated in place).
/// @param caps Our own capabilities.
[[nodiscard]] ProtocolSetupPlan plan_protocol_setup(ServerOptions& o,
                                                    const ServerCapabilities& caps = {});

} // namespace ocr::daemon
