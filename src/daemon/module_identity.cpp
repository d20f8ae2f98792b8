// SPDX-License-Identifier: MIT
#include "daemon/module_identity.hpp"

#include "daemon/auth_rules.hpp"
#include "daemon/user_db.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ocr::daemon {
namespace {

// Upstream log.c:rsyserr: "TEXT: strerror (errno)".
std::string with_errno(const std::string& text, int err)
{
    return text + ": " + std::strerror(err) + " (" + std::to_string(err) + ")";
}

} // namespace

std::variant<ModuleIdentity, ModuleCheckError>
resolve_module_identity(const ModuleSettings& module, const VarLookup& lookup, bool daemon_is_root,
                        uid_t daemon_uid)
{
    ModuleIdentity id;
    const std::string uid_text = expand_vars(module.uid, lookup);
    const std::string user = !uid_text.empty() ? uid_text : daemon_is_root ? kNobodyUser : "";
    uid_t effective = daemon_uid;
    if (!user.empty()) {
        auto uid = user_to_uid(user, true);
        if (!uid)
            return ModuleCheckError{"Invalid uid " + user, "@ERROR: invalid uid " + user};
        id.uid = *uid;
        effective = *uid;
    }
    const std::vector<std::string> groups = split_conf_tokens(expand_vars(module.gid, lookup));
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const std::string& g = groups[i];
        // Upstream: "*" (all of the uid's groups) only counts as the first item.
        if (i == 0 && g == "*") {
            std::string error;
            auto all = all_groups_of(effective, error);
            if (!all)
                return ModuleCheckError{with_errno(error, errno), "@ERROR: " + error};
            id.gids = std::move(*all);
            continue;
        }
        auto gid = group_to_gid(g, true);
        if (!gid)
            return ModuleCheckError{"Invalid gid " + g, "@ERROR: invalid gid " + g};
        id.gids.push_back(*gid);
    }
    if (groups.empty() && daemon_is_root) {
        const std::string nobody = nobody_group_name();
        auto gid = group_to_gid(nobody, true);
        if (!gid)
            return ModuleCheckError{"Invalid gid " + nobody, "@ERROR: invalid gid " + nobody};
        id.gids.push_back(*gid);
    }
    return id;
}

bool module_uses_chroot(const ModuleSettings& module, const std::string& path, bool daemon_is_root)
{
    if (module.use_chroot == Bool3::True)
        return true;
    if (module.use_chroot == Bool3::False)
        return false;
    // Upstream: "/./" asks for a chroot; otherwise it tries chroot("/") and falls back.
    return path.find("/./") != std::string::npos || daemon_is_root;
}

std::optional<ModuleCheckError> check_module_path(const std::string& path, bool uses_chroot)
{
    std::string outer = path;
    std::string inner;
    if (auto split = path.find("/./"); uses_chroot && split != std::string::npos) {
        outer = path.substr(0, split);
        inner = path.substr(split + 2);
    }
    auto missing = [](const std::string& p, int& err) {
        struct stat st;
        if (::stat(p.c_str(), &st) == 0) {
            if (S_ISDIR(st.st_mode))
                return false;
            err = ENOTDIR;
            return true;
        }
        err = errno;
        return err == ENOENT || err == ENOTDIR;
    };
    int err = 0;
    if (missing(outer.empty() ? "/" : outer, err)) {
        if (uses_chroot)
            return ModuleCheckError{with_errno("chroot(\"" + outer + "\") failed", err),
                                    "@ERROR: chroot failed"};
        return ModuleCheckError{with_errno("chdir " + outer + " failed", err), "@ERROR: chdir failed"};
    }
    if (!inner.empty() && missing(outer + inner, err))
        return ModuleCheckError{with_errno("chdir " + inner + " failed", err), "@ERROR: chdir failed"};
    return std::nullopt;
}

} // namespace ocr::daemon
