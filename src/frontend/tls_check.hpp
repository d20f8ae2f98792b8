// SPDX-License-Identifier: MIT
// Start-up and reload checks of the TLS certificate and key, before anything is served.
#pragma once

#include "daemon/config.hpp"
#include "daemon/tls_material.hpp"

#include <ctime>
#include <string>
#include <vector>

namespace ocr::frontend {

/// A certificate that expires sooner than this is warned about.
inline constexpr int kTlsExpiryWarningDays = 14;

/// @brief Problems found in the TLS files.
struct TlsCheckResult {
    std::vector<std::string> errors;   ///< refuse to start (or to reload)
    std::vector<std::string> warnings; ///< log and go on
};

/// @brief Checks that the chain parses, the key parses and matches the leaf, the leaf is
///        valid at @p now and the settings build a context. Warns within 14 days of expiry.
[[nodiscard]] TlsCheckResult check_tls_material(const daemon::TlsMaterial& material,
                                                const daemon::GlobalSettings& g, std::time_t now);

} // namespace ocr::frontend
