// SPDX-License-Identifier: MIT
#include "frontend/notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

namespace ocr::frontend {

void ServiceNotifier::ready()
{
    sd_notify(0, "READY=1");
}

void ServiceNotifier::reloading()
{
    // MONOTONIC_USEC lets a later systemd (Type=notify-reload) match the reload it asked for.
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const unsigned long long usec =
        static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
}

void ServiceNotifier::stopping()
{
    sd_notify(0, "STOPPING=1");
}

void ServiceNotifier::status(const std::string& text)
{
    sd_notifyf(0, "STATUS=%s", text.c_str());
}

void ServiceNotifier::watchdog()
{
    sd_notify(0, "WATCHDOG=1");
}

std::optional<std::chrono::microseconds> ServiceNotifier::watchdog_interval() const
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        return std::chrono::microseconds(usec / 2);
    return std::nullopt;
}

} // namespace ocr::frontend
