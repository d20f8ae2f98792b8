// SPDX-License-Identifier: MIT
// Confined lookups beneath a module root, and the "fake super" view of its entries.
#include "transfer/module_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ocr::transfer {

std::string relative_to_root(std::string_view path)
{
    while (!path.empty() && path.front() == '/')
        path.remove_prefix(1);
    return path.empty() ? std::string(".") : std::string(path);
}

ModuleFs::ModuleFs(UniqueFd root) : root_(std::move(root)) {}

int ModuleFs::openat_beneath(int dirfd, std::string_view rel, int flags, bool no_symlinks_at_all) const
{
    const std::string path = relative_to_root(rel);
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (no_symlinks_at_all ? RESOLVE_NO_SYMLINKS : 0);
    for (;;) {
        const long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
        if (fd >= 0)
            return static_cast<int>(fd);
        if (errno == EINTR || errno == EAGAIN)
            continue;
        // A path that would leave the module: upstream 3.5.0's confined opens report
        // these as a symlink loop, and clients print that text.
        if (errno == EXDEV)
            errno = ELOOP;
        return -1;
    }
}

int ModuleFs::noatime_flag() const noexcept
{
    // openat2 applies the flag to the last component only: the directories walked through
    // are not opened, as upstream's walk opens them without it (syscall.c:ds_descend).
    return open_noatime_ ? O_NOATIME : 0;
}

UniqueFd ModuleFs::open_dir(std::string_view rel) const
{
    return UniqueFd(openat_beneath(root_.get(), rel, O_RDONLY | O_DIRECTORY | noatime_flag(), false));
}

UniqueFd ModuleFs::open_read(std::string_view rel, bool follow_last) const
{
    return UniqueFd(openat_beneath(root_.get(), rel,
                                   O_RDONLY | O_NOCTTY | (follow_last ? 0 : O_NOFOLLOW) | noatime_flag(), false));
}

UniqueFd ModuleFs::open_parent(std::string_view rel, std::string& leaf) const
{
    const std::string path = relative_to_root(rel);
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        leaf = path;
        return UniqueFd(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    }
    leaf = path.substr(slash + 1);
    // A parent is only passed through: never O_NOATIME.
    return UniqueFd(openat_beneath(root_.get(), std::string_view(path).substr(0, slash), O_RDONLY | O_DIRECTORY, false));
}

int ModuleFs::stat(std::string_view rel, struct stat& st, bool follow) const
{
    std::string leaf;
    const std::string path = relative_to_root(rel);
    if (path == ".")
        return ::fstat(root_.get(), &st);
    if (follow) {
        UniqueFd fd(openat_beneath(root_.get(), path, O_PATH, false));
        if (!fd)
            return -1;
        return ::fstat(fd.get(), &st);
    }
    UniqueFd parent = open_parent(path, leaf);
    if (!parent)
        return -1;
    return ::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW);
}

int ModuleFs::stat_through_link(std::string_view rel, struct stat& st, std::string_view beneath) const
{
    const std::string path = relative_to_root(rel);
    std::string base = relative_to_root(beneath);
    if (base == ".")
        base.clear();
    // The part of the path below @p beneath; a path outside it is looked up from the root.
    std::string_view tail = path;
    UniqueFd anchor;
    if (!base.empty() && path.size() > base.size() && path.compare(0, base.size(), base) == 0 &&
        path[base.size()] == '/') {
        anchor = open_dir(base);
        if (!anchor)
            return -1;
        tail.remove_prefix(base.size() + 1);
    } else {
        anchor.reset(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    }
    const auto slash = tail.rfind('/');
    UniqueFd parent = slash == std::string_view::npos
                          ? std::move(anchor)
                          : UniqueFd(openat_beneath(anchor.get(), tail.substr(0, slash), O_RDONLY | O_DIRECTORY, false));
    if (!parent)
        return -1;
    const std::string leaf(slash == std::string_view::npos ? tail : tail.substr(slash + 1));
    if (leaf == ".")
        return ::fstat(parent.get(), &st);
    return ::fstatat(parent.get(), leaf.c_str(), &st, 0);
}

std::optional<std::string> ModuleFs::read_link(std::string_view rel) const
{
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf);
    if (!parent)
        return std::nullopt;
    if (fake_super_) {
        // Upstream: syscall.c:do_readlink_atfd with am_root < 0 (one read of MAXPATHLEN-1).
        UniqueFd fd(::openat(parent.get(), leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (fd) {
            std::string text(4095, '\0');
            ssize_t n = 0;
            do
                n = ::read(fd.get(), text.data(), text.size());
            while (n < 0 && errno == EINTR);
            if (n < 0)
                return std::nullopt;
            text.resize(static_cast<std::size_t>(n));
            return text;
        }
        if (errno != ELOOP)
            return std::nullopt;
        // A real symlink: a sender reads it as one.
    }
    std::string buf(4096, '\0');
    for (;;) {
        const ssize_t n = ::readlinkat(parent.get(), leaf.c_str(), buf.data(), buf.size());
        if (n < 0)
            return std::nullopt;
        if (static_cast<std::size_t>(n) < buf.size()) {
            buf.resize(static_cast<std::size_t>(n));
            return buf;
        }
        if (buf.size() >= (1u << 20)) {
            errno = ENAMETOOLONG;
            return std::nullopt;
        }
        buf.resize(buf.size() * 2);
    }
}

namespace {

// The record of an entry that could not be opened to read it.
StatXattrLookup lookup_failed(int err)
{
    StatXattrLookup failed;
    failed.result = StatXattrLookup::Result::Failed;
    failed.err = err;
    return failed;
}

// Reads the record through a fresh read-only fd of the entry `st` describes and lays it over.
StatXattrLookup lay_over_fd(int fd, struct stat& st)
{
    StatXattrLookup found;
    struct stat now{};
    if (::fstat(fd, &now) != 0) {
        found.result = StatXattrLookup::Result::Failed;
        found.err = errno;
        return found;
    }
    if (now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
        // Replaced since it was looked at: as if lgetxattr had met the new entry's missing
        // record (the next look will see the new entry).
        return found;
    }
    found = read_stat_xattr(fd);
    if (found.result == StatXattrLookup::Result::Found)
        overlay_stat_xattr(st, found.record);
    return found;
}

bool carries_record(const struct stat& st) noexcept
{
    // Upstream: xattrs.c:get_stat_xattr skips devices and specials; Linux keeps no user
    // xattrs on symlinks.
    return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}

constexpr int kRecordOpen = O_RDONLY | O_NONBLOCK | O_NOCTTY;

} // namespace

StatXattrLookup ModuleFs::lay_over_record(std::string_view rel, struct stat& st, bool follow) const
{
    if (!fake_super_ || !carries_record(st))
        return {};
    const std::string path = relative_to_root(rel);
    const int dir_flag = S_ISDIR(st.st_mode) ? O_DIRECTORY : 0;
    UniqueFd fd;
    if (path == ".") {
        fd.reset(::openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    } else if (follow) {
        // Only a target inside the module is opened; one outside keeps its real stat.
        fd.reset(openat_beneath(root_.get(), path, kRecordOpen | dir_flag, false));
        if (!fd)
            return {};
    } else {
        std::string leaf;
        UniqueFd parent = open_parent(path, leaf);
        if (parent)
            fd.reset(::openat(parent.get(), leaf.c_str(), kRecordOpen | O_NOFOLLOW | O_CLOEXEC | dir_flag));
    }
    if (!fd)
        return lookup_failed(errno);
    return lay_over_fd(fd.get(), st);
}

StatXattrLookup ModuleFs::lay_over_record_at(int dir_fd, const std::string& leaf, struct stat& st) const
{
    if (!fake_super_ || !carries_record(st))
        return {};
    const int dir_flag = S_ISDIR(st.st_mode) ? O_DIRECTORY : 0;
    UniqueFd fd(::openat(dir_fd, leaf.c_str(), kRecordOpen | O_NOFOLLOW | O_CLOEXEC | dir_flag));
    if (!fd)
        return lookup_failed(errno);
    return lay_over_fd(fd.get(), st);
}

std::optional<std::vector<std::string>> ModuleFs::list_dir(int dir_fd) const
{
    const int dup = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return std::nullopt;
    DIR* d = ::fdopendir(dup);
    if (!d) {
        const int e = errno;
        ::close(dup);
        errno = e;
        return std::nullopt;
    }
    ::rewinddir(d);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* de = ::readdir(d)) {
        const char* n = de->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
            continue;
        names.emplace_back(n);
        errno = 0;
    }
    const int e = errno;
    ::closedir(d);
    if (e != 0) {
        errno = e;
        return std::nullopt;
    }
    return names;
}

} // namespace ocr::transfer
