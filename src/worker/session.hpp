// SPDX-License-Identifier: MIT
// One session in a worker: confinement, protocol setup, the transfer, the end.
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/config.hpp"
#include "daemon/session_descriptor.hpp"

namespace ocr::worker {

/// @brief Serves @p session on @p client; returns the process exit code.
/// @brief Runs one client session handed over by the front-end.
/// @param defaults the daemon's command-line settings for every session.
/// @return the session's exit code.
int run_session(const daemon::Config& config, const daemon::SessionDefaults& defaults,
                const daemon::SessionDescriptor& session, UniqueFd client);

} // namespace ocr::worker
