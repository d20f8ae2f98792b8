// SPDX-License-Identifier: MIT
// A push: the daemon receives (upstream clientserver.c:rsync_module's tail, main.c:
// start_server and do_server_recv), from the setup bytes to the session's end.
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/server_options.hpp"
#include "worker/pull_session.hpp"

namespace ocr::worker {

/// @brief What the worker established before a push starts (the same facts as a pull's).
using PushContext = PullContext;

/// @brief Runs the push on @p client. @p options are the accepted options after the
///        module's overrides.
/// @return the session's exit code.
int run_push(const PushContext& ctx, daemon::ServerOptions& options, UniqueFd client);

} // namespace ocr::worker
