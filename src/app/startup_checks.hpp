// SPDX-License-Identifier: MIT
// Config features ocrsyncd does not implement yet: refused at start-up, never ignored.
#pragma once

#include "daemon/config.hpp"

#include <vector>

namespace ocr::app {

/// @brief One Problem (an error) for each setting this build cannot honour, so that an
///        administrator learns at start-up instead of a client learning mid-session.
[[nodiscard]] std::vector<daemon::Problem> unsupported_settings(const daemon::Config& config);

} // namespace ocr::app
