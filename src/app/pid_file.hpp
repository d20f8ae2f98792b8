// SPDX-License-Identifier: MIT
// The "pid file": written and locked at start, removed at exit.
#pragma once

#include "common/unique_fd.hpp"

#include <string>

namespace ocr::app {

/// @brief Creates (or takes over) @p path, locks it and writes our pid, refusing to follow
///        a symlink at the final component (upstream clientserver.c:create_pid_file).
/// @return the locked descriptor; keep it open for the life of the daemon.
/// @throw std::runtime_error "failed to STEP pid file PATH: REASON" as upstream words it.
[[nodiscard]] UniqueFd create_pid_file(const std::string& path);

} // namespace ocr::app
