// SPDX-License-Identifier: MIT
#include "worker/confinement.hpp"

#include "daemon/module_identity.hpp"
#include "daemon/user_db.hpp"
#include "daemon/var_expand.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ocr::worker {
namespace {

std::string with_errno(const std::string& text, int err)
{
    return text + ": " + std::strerror(err) + " (" + std::to_string(err) + ")";
}

// Upstream util1.c:normalize_path (the parts a module path needs): collapse "//" and "/./",
// drop a trailing slash.
std::string tidy_path(std::string p)
{
    std::string out;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '/' && !out.empty() && out.back() == '/')
            continue;
        out.push_back(p[i]);
    }
    while (out.size() > 1 && out.back() == '/')
        out.pop_back();
    return out.empty() ? "/" : out;
}

} // namespace

std::variant<ConfinedModule, ConfinementError>
confine_to_module(const daemon::GlobalSettings& globals, const daemon::ModuleSettings& module,
                  const std::function<std::optional<std::string>(std::string_view)>& lookup)
{
    // Upstream's per-connection child takes "daemon gid" / "daemon uid" before anything
    // module-related; a module then behaves as on a daemon started as that user.
    if (!globals.daemon_gid.empty()) {
        const auto gid = daemon::group_to_gid(globals.daemon_gid, true);
        if (!gid || ::setgid(*gid) != 0)
            return ConfinementError{"Invalid daemon gid: " + globals.daemon_gid, "setgid failed"};
    }
    if (!globals.daemon_uid.empty()) {
        const auto uid = daemon::user_to_uid(globals.daemon_uid, true);
        if (!uid || ::setuid(*uid) != 0)
            return ConfinementError{"Invalid daemon uid: " + globals.daemon_uid, "setuid failed"};
    }
    const bool am_root = ::getuid() == 0;

    auto id = daemon::resolve_module_identity(module, lookup, am_root, ::getuid());
    if (auto* err = std::get_if<daemon::ModuleCheckError>(&id))
        return ConfinementError{err->log_line, err->error_line.substr(err->error_line.find(' ') + 1)};
    const auto& identity = std::get<daemon::ModuleIdentity>(id);

    const std::string path = daemon::expand_vars(module.path, lookup);
    if (path.empty())
        return ConfinementError{"No path specified for module " + module.name, "no path setting."};

    ConfinedModule out;
    out.am_root = am_root;
    std::string chdir_to;
    bool use_chroot = module.use_chroot == daemon::Bool3::True ||
                      (module.use_chroot == daemon::Bool3::Unset && path.find("/./") != std::string::npos);
    if (module.use_chroot == daemon::Bool3::Unset && !use_chroot) {
        // Upstream: an unset "use chroot" tries chroot("/") and falls back to no chroot.
        if (::chroot("/") == 0) {
            use_chroot = true;
        }
    }
    bool inner_split = false;
    if (use_chroot) {
        std::string outer = path;
        std::string inner = "/";
        if (auto split = path.find("/./"); split != std::string::npos) {
            outer = path.substr(0, split);
            inner = tidy_path(path.substr(split + 2));
            inner_split = true;
        }
        outer = tidy_path(outer);
        out.full_path = tidy_path(inner_split ? path : outer);
        // Time zone data is not reachable once inside the chroot.
        ::tzset();
        if (::chroot(outer.c_str()) != 0)
            return ConfinementError{with_errno("chroot(\"" + outer + "\") failed", errno), "chroot failed"};
        out.chrooted = true;
        chdir_to = inner;
    } else {
        chdir_to = tidy_path(path);
        out.full_path = chdir_to;
    }
    if (::chdir(chdir_to.c_str()) != 0)
        return ConfinementError{with_errno("chdir " + chdir_to + " failed", errno), "chdir failed"};
    out.module_dir = chdir_to;
    // Held while still privileged, so later work resolves beneath the module by identity.
    out.root.reset(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!out.root)
        return ConfinementError{with_errno("open module directory " + chdir_to + " failed", errno), "chdir failed"};

    // Upstream: "munge symlinks" unset means on unless a plain chroot confines the module.
    out.munge_symlinks = module.munge_symlinks == daemon::Bool3::Unset ? (!out.chrooted || inner_split)
                                                                        : module.munge_symlinks == daemon::Bool3::True;
    if (out.munge_symlinks) {
        struct stat st{};
        if (::stat("/rsyncd-munged", &st) == 0 && S_ISDIR(st.st_mode))
            return ConfinementError{"Symlink munging is unsafe when a /rsyncd-munged directory exists.",
                                    "daemon security issue -- contact admin"};
    }

    if (!identity.gids.empty()) {
        if (::setgid(identity.gids[0]) != 0)
            return ConfinementError{with_errno("setgid " + std::to_string(identity.gids[0]) + " failed", errno),
                                    "setgid failed"};
        if (::setgroups(identity.gids.size(), identity.gids.data()) != 0)
            return ConfinementError{with_errno("setgroups failed", errno), "setgroups failed"};
    }
    if (identity.uid) {
        if (::setuid(*identity.uid) != 0 || ::seteuid(*identity.uid) != 0)
            return ConfinementError{with_errno("setuid " + std::to_string(*identity.uid) + " failed", errno),
                                    "setuid failed"};
        out.am_root = *identity.uid == 0;
    }
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
#ifdef OCR_SANITIZER_BUILD
    // LeakSanitizer reads /proc/self at exit, which a process that changed its uid may not
    // do; only sanitizer builds give up this protection.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
    return out;
}

} // namespace ocr::worker
