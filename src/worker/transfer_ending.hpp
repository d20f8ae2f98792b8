// SPDX-License-Identifier: MIT
// How a transfer session ends once multiplexing has started (upstream
// cleanup.c:_exit_cleanup and log.c:log_exit on a daemon server): which messages the
// client and the log get, whether MSG_ERROR_EXIT is sent, and how long we keep reading.
#pragma once

#include "daemon/upstream_text.hpp"
#include "transfer/connection.hpp"
#include "transfer/reporter.hpp"

#include <chrono>
#include <string>

namespace ocr::worker {

/// @brief The parts of the session an ending needs.
struct EndingContext {
    transfer::Connection& conn;
    transfer::Reporter& report;
    int protocol = 32;
    bool am_sender = true;
    std::chrono::seconds io_timeout{0};
};

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
///        reads on until the client closes.
/// @return @p code.
int end_after_peer_exit(const EndingContext& ctx, int code, daemon::UpstreamSite site);

} // namespace ocr::worker
