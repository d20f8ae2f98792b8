// SPDX-License-Identifier: MIT
// The single entry of the ocrsyncd executable (daemon, worker and spawner modes).
#pragma once

namespace ocr::app {

/// @brief Runs ocrsyncd with the process command line; returns the exit code.
int run(int argc, char** argv);

} // namespace ocr::app
