// SPDX-License-Identifier: MIT
// Resolving a module's uid/gid and checking its path the way upstream does before it
// answers "@RSYNCD: OK" (clientserver.c:rsync_module). Blocking (NSS, stat).
#pragma once

#include "daemon/config.hpp"
#include "daemon/var_expand.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ocr::daemon {

/// @brief The ids a module's transfer runs as.
struct ModuleIdentity {
    std::optional<uid_t> uid;  ///< nullopt: keep the daemon's (non-root daemon, no "uid")
    std::vector<gid_t> gids;   ///< first = primary; empty: keep the daemon's
};

/// @brief A failure upstream reports before "@RSYNCD: OK".
struct ModuleCheckError {
    std::string log_line;   ///< what upstream writes to its log
    std::string error_line; ///< what it sends: "@ERROR: ..." (no newline)
};

/// @brief Resolves "uid" and "gid" (with %VAR%s expanded through @p lookup) as upstream:
///        root daemons default to nobody / NOBODY_GROUP; `gid = *` means all groups of
///        the uid; names or numbers.
[[nodiscard]] std::variant<ModuleIdentity, ModuleCheckError>
resolve_module_identity(const ModuleSettings& module, const VarLookup& lookup, bool daemon_is_root,
                        uid_t daemon_uid);

/// @brief Whether a module uses chroot, as upstream decides it (BOOL3 "use chroot"):
///        forced by a "/./" in the path, else unset means "if we can" (root).
[[nodiscard]] bool module_uses_chroot(const ModuleSettings& module, const std::string& path,
                                      bool daemon_is_root);

/// @brief Checks that the module path exists as upstream's chroot/chdir would need it;
///        a permission problem is not reported (the worker, with the module's
///        credentials, has the last word).
[[nodiscard]] std::optional<ModuleCheckError> check_module_path(const std::string& path, bool uses_chroot);

} // namespace ocr::daemon
