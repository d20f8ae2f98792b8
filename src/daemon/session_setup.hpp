// SPDX-License-Identifier: MIT
// Pieces of a session's start and end shared by the front-end (which refuses sessions)
// and the workers (which run them): the option-parsing context of a module, the setup
// bytes, and upstream's way of ending a session with an error.
#pragma once

#include "daemon/config.hpp"
#include "daemon/module_policy.hpp"
#include "daemon/refuse_options.hpp"
#include "daemon/server_options.hpp"
#include "daemon/upstream_text.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace ocr::daemon {

/// @brief What this daemon implements: options for the rest are refused as an upstream
///        built without them refuses them (ACLs, xattrs, iconv, crtimes).
[[nodiscard]] BuildFeatures daemon_build_features();

/// @brief The refused options of @p module.
[[nodiscard]] RefuseSet module_refuse_set(const ModuleSettings& module);

/// @brief The parse context of @p module whose path (with %VAR%s expanded) is @p path.
[[nodiscard]] ServerParseContext module_parse_context(const ModuleSettings& module, const std::string& path,
                                                      bool chroot, bool daemon_is_root, int protocol);

/// @brief The raw setup bytes for @p plan (a random seed unless the client chose one).
[[nodiscard]] std::string encode_setup(const ProtocolSetupPlan& plan);
/// @brief The raw setup bytes for @p plan announcing @p seed.
[[nodiscard]] std::string encode_setup(const ProtocolSetupPlan& plan, std::int32_t seed);

/// @brief How a session that is refused after protocol setup ends, byte for byte and
///        millisecond for millisecond as upstream's daemon ends it.
///
/// Upstream's exit path buffers its last messages and only flushes them in some roles, and
/// it exits without reading input it had not started reading, so a client may see our
/// messages or not, and an orderly close or a reset, depending on the role and protocol.
/// Clients react to each of these differently (exit codes 1, 4, 10, 12), so we reproduce
/// them instead of "improving" them.
struct RefusalEnding {
    std::string now;                        ///< send at once
    std::chrono::milliseconds wait_before{0}; ///< then wait
    std::string late;                       ///< then send
    bool await_exit_answer = false;         ///< then read until the client answers MSG_ERROR_EXIT
    int client_lists = 0;                   ///< (its name lists come first)
    std::chrono::milliseconds wait_after{0};  ///< then wait
    bool abandon_input = false;             ///< then close without reading what is pending
};

/// @brief A refused option (clientserver.c:rsync_module's error path).
/// @param setup the setup bytes (encode_setup of the partial options).
/// @param files_from_byte a receiving server that saw --files-from sends one 0 byte first.
[[nodiscard]] RefusalEnding option_refusal(const ProtocolSetupPlan& plan, const std::string& setup, bool am_sender,
                                           bool files_from_byte, const std::string& client_message);

/// @brief A refusal in main.c:start_server (read only, write only, ...) or any other error
///        after a normal start: [MSG_IO_TIMEOUT] message, "rsync error: ..." (site, role),
///        MSG_ERROR_EXIT on 31+.
/// @param io_timeout the timeout in force (announced to 31+ clients when non-zero), or 0.
[[nodiscard]] RefusalEnding start_refusal(const ProtocolSetupPlan& plan, const std::string& setup, bool am_sender,
                                          int io_timeout, std::string_view message, int exit_code, UpstreamSite site);

/// @brief An error of our own after protocol setup (no upstream counterpart to copy): the
///        same frames as start_refusal(), always delivered, then an orderly close.
[[nodiscard]] RefusalEnding session_error(const ProtocolSetupPlan& plan, const std::string& setup, bool am_sender,
                                          int io_timeout, std::string_view message, int exit_code, UpstreamSite site);

/// @brief @p text without its trailing newline (for log lines).
[[nodiscard]] std::string without_newline(std::string_view text);

} // namespace ocr::daemon
