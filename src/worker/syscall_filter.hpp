// SPDX-License-Identifier: MIT
// The worker's seccomp allowlist: what a confined transfer may ask of the kernel.
#pragma once

#include <optional>
#include <string>

namespace ocr::worker {

/// @brief What a session's module needs beyond the common list.
struct SyscallFilterOptions {
    /// The session may look user and group names up (its ids are not numeric-only). The
    /// name service may answer from a daemon on a local socket (nscd, sssd, nslcd,
    /// systemd-userdb), as it does for upstream's lookups: local sockets may be opened and
    /// connected. Network sockets stay refused either way.
    bool name_service_sockets = false;
};

/// @brief Loads the worker's system call filter into this process (and every thread it
///        creates afterwards), as architecture.md "must hold" 3 asks of a worker that has
///        started its transfer.
///
/// The filter allows what the transfer engine does with files in its module and with the
/// descriptors it already holds; a call outside the list kills the process (the kernel's
/// audit log names the call). A few harmless probes of libc and NSS get an error instead:
/// socket() (syslog reconnecting; the name service, unless @p options lets it in) fails
/// with EACCES, clone3() with ENOSYS so that glibc falls back to clone() for threads.
///
/// Call it once, after confinement and before any thread is created: a filter covers only
/// the thread that loads it and the threads that thread creates later.
/// @return the reason when the filter could not be loaded (the worker must then stop).
[[nodiscard]] std::optional<std::string> install_syscall_filter(const SyscallFilterOptions& options = {});

} // namespace ocr::worker
