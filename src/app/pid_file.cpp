// SPDX-License-Identifier: MIT
#include "app/pid_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ocr::app {

UniqueFd create_pid_file(const std::string& path)
{
    auto fail = [&path](const char* step) -> std::runtime_error {
        return std::runtime_error(std::string("failed to ") + step + " pid file " + path + ": " +
                                  std::strerror(errno));
    };
    // Resolve the leaf against its directory once, so the checks and the open agree.
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd)
        throw fail("open directory of");
    struct stat st{};
    if (::fstatat(dfd.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
        ::unlinkat(dfd.get(), base.c_str(), 0) != 0)
        throw fail("unlink");
    UniqueFd fd(::openat(dfd.get(), base.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0664));
    if (!fd)
        throw fail("create");
    flock lock{};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 4;
    if (::fcntl(fd.get(), F_SETLK, &lock) != 0)
        throw fail("lock");
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw fail("avoid file overwrite race for");
    if (::ftruncate(fd.get(), 0) != 0)
        throw fail("truncate");
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::pwrite(fd.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        throw fail("write");
    return fd;
}

} // namespace ocr::app
