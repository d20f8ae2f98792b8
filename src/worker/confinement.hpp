// SPDX-License-Identifier: MIT
// Putting a worker into its module: daemon ids, chroot/chdir, module uid/gid, no new
// privileges. (The system call filter that follows is worker/syscall_filter; Landlock comes
// with the hardening work.)
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/config.hpp"

#include <optional>
#include <string>
#include <variant>

namespace ocr::worker {

/// @brief A worker confined to its module.
struct ConfinedModule {
    UniqueFd root;            ///< the module directory, opened before dropping privileges
    std::string module_dir;   ///< the module directory as paths are seen now ("/" when chrooted)
    std::string full_path;    ///< the path upstream exports as RSYNC_MODULE_PATH
    bool chrooted = false;
    bool munge_symlinks = false;
    bool am_root = false;     ///< still root after confinement (module "uid = root")
};

/// @brief Why confinement failed: upstream's log line and the text for the client.
struct ConfinementError {
    std::string log_line;
    std::string client_text;
};

/// @brief Confines this process as upstream's clientserver.c:rsync_module does before it
///        answers "@RSYNCD: OK", in the same order.
/// @param globals for "daemon uid" / "daemon gid".
/// @param module the module's settings.
/// @param lookup %VAR% environment for "path", "uid", "gid".
[[nodiscard]] std::variant<ConfinedModule, ConfinementError>
confine_to_module(const daemon::GlobalSettings& globals, const daemon::ModuleSettings& module,
                  const std::function<std::optional<std::string>(std::string_view)>& lookup);

} // namespace ocr::worker
