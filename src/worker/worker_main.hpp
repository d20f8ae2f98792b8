// SPDX-License-Identifier: MIT
// The worker process: waits for one session from the front-end, confines itself to the
// session's module, runs it, exits.
#pragma once

namespace ocr::worker {

/// Where the spawner puts the worker's descriptors.
inline constexpr int kChannelFd = 3;   ///< SOCK_SEQPACKET to the front-end
inline constexpr int kPackageFd = 4;   ///< sealed memfd with the config package
inline constexpr int kLogFd = 5;       ///< the log file, when logging to a file

/// @brief Runs one worker; returns the process exit code.
int run_worker();

} // namespace ocr::worker
