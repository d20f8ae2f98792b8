// SPDX-License-Identifier: MIT
// How a transfer session ends once multiplexing has started (upstream
// cleanup.c:_exit_cleanup and log.c:log_exit on a daemon server): which messages the
// client and the log get, whether MSG_ERROR_EXIT is sent, and how long we keep reading.
#pragma once

#include "daemon/upstream_text.hpp"
#include "transfer/connection.hpp"
#include "transfer/reporter.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::worker {

/// @brief The parts of the session an ending needs.
struct EndingContext {
    transfer::Connection& conn;
    transfer::Reporter& report;
    int protocol = 32;
    bool am_sender = true;
    std::chrono::seconds io_timeout{0};
    /// A sender's "sent N bytes  received N bytes  total size N" line as of now (upstream
    /// log.c:log_exit logs it for every exit of a sender); empty for a receiver.
    std::function<std::string()> sender_totals = {};
    /// Upstream's shutting_down: a receiver that sent its final goodbye ends without
    /// MSG_ERROR_EXIT and without waiting for the client (main.c:do_recv sets it,
    /// cleanup.c:_exit_cleanup checks it).
    bool shutting_down = false;
    /// The role the final "rsync error:" line names when it is not the default for
    /// am_sender (a push's generator or forked receiver).
    std::optional<daemon::UpstreamRole> role = std::nullopt;
};

/// @brief @p line as upstream's daemon writes it to its log file: log.c:rwrite keeps at
///        most 2047 bytes of a message, logit stops at a NUL and escapes control
///        characters, C1 controls and anything looking like an escape as "\#ooo"
///        (filtered_fwrite), so that a file name cannot forge or garble log lines.
/// @param line one message without its trailing newline.
[[nodiscard]] std::string daemon_log_text(std::string_view line);

/// @brief A fatal error inside the transfer: @p message (if any, with its newline) and
///        upstream's "rsync error: ... at FILE(LINE) [role=3.5.0]" line, then the exit
///        exchange upstream performs for @p code.
/// @return @p code.
int end_with_fatal_error(const EndingContext& ctx, const std::string& message, int code,
                         daemon::UpstreamSite site);

/// @brief The end of a transfer that ran to completion with exit code @p code (0, or
///        23/24/25 from the I/O error bits). Upstream prints no error line here (the
///        client prints its own), but sends MSG_ERROR_EXIT to 31+ clients for a non-zero
///        code and then waits for the client to go away.
/// @return @p code.
/// @param wait_for_client false when upstream had stopped reading (it then closes at once).
int end_after_completion(const EndingContext& ctx, int code, bool wait_for_client = true);

/// @brief The client ended the session with MSG_ERROR_EXIT carrying @p code: upstream
///        logs the exit as its own (no duplicate to the client) and, from protocol 31,
///        reads on until the client closes. A code of 0 becomes the session's own
///        partial-transfer code (Reporter::partial_exit_code), as upstream's exit_cleanup(0).
/// @return @p code.
int end_after_peer_exit(const EndingContext& ctx, int code, daemon::UpstreamSite site);

} // namespace ocr::worker
