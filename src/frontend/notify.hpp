// SPDX-License-Identifier: MIT
// systemd service notifications (sd_notify) and the watchdog interval.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace ocr::frontend {

/// @brief Thin wrapper over sd_notify(3); every call is a no-op outside systemd.
class ServiceNotifier {
public:
    void ready();
    void reloading();
    void stopping();
    void status(const std::string& text);
    void watchdog();
    /// @brief How often to ping the watchdog (half of WATCHDOG_USEC), if it is enabled.
    [[nodiscard]] std::optional<std::chrono::microseconds> watchdog_interval() const;
};

} // namespace ocr::frontend
