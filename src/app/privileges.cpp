// SPDX-License-Identifier: MIT
#include "app/privileges.hpp"

#include "daemon/user_db.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ocr::app {

void drop_privileges(const std::string& user, const std::string& group)
{
    const auto uid = daemon::user_to_uid(user, true);
    if (!uid)
        throw std::runtime_error("unknown user \"" + user + "\" to run the front-end as");
    const auto gid = daemon::group_to_gid(group, true);
    if (!gid)
        throw std::runtime_error("unknown group \"" + group + "\" to run the front-end as");
    if (::setgroups(0, nullptr) != 0)
        throw std::runtime_error(std::string("setgroups: ") + std::strerror(errno));
    if (::setresgid(*gid, *gid, *gid) != 0)
        throw std::runtime_error(std::string("setresgid: ") + std::strerror(errno));
    if (::setresuid(*uid, *uid, *uid) != 0)
        throw std::runtime_error(std::string("setresuid: ") + std::strerror(errno));
    if (*uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
        throw std::runtime_error("privileges could be regained after dropping them");
    // The front-end never executes anything; make sure nothing it could run gains privileges.
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
#ifdef OCR_SANITIZER_BUILD
    // LeakSanitizer reads /proc/self at exit, which a process that changed its uid may not
    // do; only sanitizer builds give up this protection.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
}

long raise_descriptor_limit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    return static_cast<long>(rl.rlim_cur);
}

void become_daemon()
{
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::fprintf(stderr, "failed to fork: %s\n", std::strerror(errno));
        std::exit(11);
    }
    if (pid > 0)
        ::_exit(0);
    ::setsid();
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        if (devnull > 2)
            ::close(devnull);
    }
}

} // namespace ocr::app
