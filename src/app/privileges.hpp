// SPDX-License-Identifier: MIT
// Dropping root in the process that reads network bytes, and process-wide limits.
#pragma once

#include <string>

namespace ocr::app {

/// @brief Switches a root process to @p user / @p group (names or numbers) for good:
///        no supplementary groups, real/effective/saved ids all changed, no new privileges.
///        Afterwards it checks that regaining root fails.
/// @throw std::runtime_error when any step fails (the daemon must not run half-dropped).
void drop_privileges(const std::string& user, const std::string& group);

/// @brief Raises the soft descriptor limit to the hard one (a daemon holding thousands
///        of connections needs more than the usual 1024).
/// @return the new soft limit.
long raise_descriptor_limit();

/// @brief Detaches like upstream's become_daemon: fork (parent exits 0), setsid, and
///        stdin/stdout/stderr on /dev/null.
void become_daemon();

} // namespace ocr::app
