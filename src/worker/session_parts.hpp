// SPDX-License-Identifier: MIT
// Pieces a pull and a push session both need: the engine's file-list settings from the
// accepted options, the daemon-log sink for engine messages, and small conversions.
#pragma once

#include "daemon/server_options.hpp"
#include "protocol/flist_options.hpp"
#include "transfer/chmod_rules.hpp"
#include "transfer/filter_client.hpp"
#include "transfer/filter_set.hpp"
#include "transfer/reporter.hpp"
#include "worker/protocol_start.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace ocr::worker {

/// @brief The file-list settings both roles share (upstream's globals as flist.c reads
///        them), from the accepted options and what protocol setup decided.
/// @param munge_symlinks whether the module munges symlinks.
/// @param module_dirlen upstream module_dirlen (0 for a chroot module): names are sanitized
///        when it is not 0.
[[nodiscard]] protocol::FlistOptions flist_options(const daemon::ServerOptions& o, const StartedProtocol& started,
                                                   bool munge_symlinks, std::size_t module_dirlen);

/// @brief --numeric-ids as the file list needs it: 0 off, below 0 the module's own
///        "numeric ids" (local only), above 0 the client's (on the wire).
[[nodiscard]] protocol::NumericIds numeric_ids_mode(int numeric_ids);

/// @brief The filter engine's kind for a parsed --filter/--exclude/... option.
[[nodiscard]] transfer::OptionRuleKind option_rule_kind(daemon::FilterOption::Kind kind);

/// @brief The daemon log as the engine's Reporter reaches it; lines are escaped as
///        upstream's log file has them (daemon_log_text), since they carry file names.
void log_to_daemon(transfer::Reporter::LogLevel level, std::string_view line);

/// @brief The filter engine's settings for a session's side: @p side with upstream's
///        process name @p who ("sender", "receiver"); a daemon never reads its own
///        account's ~/.cvsignore for a client's -C.
[[nodiscard]] transfer::FilterOptions session_filter_options(const daemon::ServerOptions& o, transfer::FilterSide side,
                                                             const char* who, int protocol, bool module_chroot);

/// @brief The client's --chmod combined with the module's "outgoing chmod" (@p outgoing)
///        or "incoming chmod" under the current umask; the combination's log line, if
///        any, goes to the daemon log.
[[nodiscard]] transfer::SessionChmod session_chmod(const daemon::ServerOptions& o, const std::string& module_chmod,
                                                   bool outgoing);

/// @brief A 32-bit little-endian int, as MSG_ERROR_EXIT carries it.
[[nodiscard]] std::string int32_le(int v);

} // namespace ocr::worker
