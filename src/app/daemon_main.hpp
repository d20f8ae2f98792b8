// SPDX-License-Identifier: MIT
// Start-up of the daemon and of --check-config.
#pragma once

#include "app/cli.hpp"
#include "daemon/config.hpp"

namespace ocr::app {

/// @brief The LoadOptions a command line stands for (with the process environment).
[[nodiscard]] daemon::LoadOptions load_options_for(const CommandLine& cl);

/// @brief --check-config: loads and validates, prints "FILE:LINE: message" for each problem.
/// @return 0 when there is no error (warnings allowed), else 1.
int run_check_config(const CommandLine& cl);

/// @brief Runs the daemon until it is stopped; returns the process exit code.
int run_daemon(const CommandLine& cl);

} // namespace ocr::app
