// SPDX-License-Identifier: MIT
// Metadata a push applies: owner, group, times and permissions, in upstream's order.
#include "transfer/push_attrs.hpp"

#include <sys/sysmacros.h>

#include <cerrno>

namespace ocr::transfer {
namespace {

constexpr std::uint32_t kChmodBits = 07777; // upstream CHMOD_BITS

// Upstream x_lstat / x_fstat under "fake super": the real stat with the entry's record laid
// over it; a record that cannot be read is reported and the real stat used.
Errno fake_super_stat(const ModuleWriter& writer, std::string_view rel, int fd, struct stat& st,
                      const std::string& full_name, const AttrError& on_error)
{
    StatXattrLookup found;
    const Errno rc = fd >= 0 ? ModuleWriter::fstat_fake_super(fd, st, found) : writer.lstat_fake_super(rel, st, found);
    if (rc != 0)
        return rc;
    if (found.result == StatXattrLookup::Result::Corrupt)
        throw_corrupt_stat_xattr(full_name, found.raw);
    if (found.result == StatXattrLookup::Result::Failed)
        on_error(found.err, std::string("failed to read xattr ") + kStatXattrName + " for " + full_name);
    return 0;
}

// Upstream xattrs.c:set_stat_xattr, called from set_file_attrs whatever happens to its result.
void store_fake_super(const ModuleWriter& writer, std::string_view rel, int fd, const AttrTarget& target,
                      std::uint32_t new_mode, const std::string& full_name, const AttrError& on_error)
{
    const dev_t rdev = makedev(target.rdev_major, target.rdev_minor);
    // Without -o / -g upstream records F_OWNER / F_GROUP of an entry that has none: 0 for
    // the entries at the top of the transfer (and stray bytes deeper down); 0 throughout here.
    const auto st = writer.store_fake_super(rel, fd, static_cast<mode_t>(new_mode), rdev, target.uid.value_or(0),
                                            target.gid.value_or(0));
    if (st.corrupt)
        throw_corrupt_stat_xattr(full_name, st.raw);
    using Step = ModuleWriter::StatXattrStore::Step;
    switch (st.step) {
    case Step::None:
        break;
    case Step::Restat:
        on_error(st.err, "failed to re-stat " + full_name);
        break;
    case Step::Write:
        on_error(st.err, std::string("failed to write xattr ") + kStatXattrName + " for " + full_name);
        break;
    case Step::Remove:
        on_error(st.err, "delete of stat xattr failed for " + full_name);
        break;
    }
}

} // namespace

bool same_time(std::int64_t a_sec, std::uint32_t a_nsec, std::int64_t b_sec, std::uint32_t b_nsec,
               int modify_window) noexcept
{
    // Upstream: util1.c:same_time.
    if (modify_window == 0)
        return a_sec == b_sec;
    if (modify_window < 0)
        return a_sec == b_sec && a_nsec == b_nsec;
    const std::int64_t d = b_sec > a_sec ? b_sec - a_sec : a_sec - b_sec;
    return d <= modify_window;
}

bool mtime_differs(const struct stat& st, const protocol::FileEntry& e, int modify_window) noexcept
{
    return !same_time(st.st_mtim.tv_sec, static_cast<std::uint32_t>(st.st_mtim.tv_nsec), e.mtime, e.mtime_nsec,
                      modify_window);
}

std::uint32_t dest_mode(std::uint32_t flist_mode, std::uint32_t stat_mode, std::uint32_t dflt_perms, bool exists,
                        bool preserve_executability) noexcept
{
    // Upstream: rsync.c:dest_mode.
    if (!exists)
        return flist_mode & (~kChmodBits | dflt_perms);
    std::uint32_t m = (flist_mode & ~kChmodBits) | (stat_mode & kChmodBits);
    if (preserve_executability && protocol::is_regular(flist_mode)) {
        if (!(flist_mode & 0111))
            m &= ~0111u;
        else if (!(stat_mode & 0111))
            m |= (m & 0444) >> 2;
    }
    return m;
}

AttrOutcome set_file_attrs(const ModuleWriter& writer, std::string_view rel, int fd, const AttrTarget& target,
                           const struct stat* st_in, const AttrSettings& s, int flags, const std::string& full_name,
                           const AttrError& on_error)
{
    // Upstream: rsync.c:set_file_attrs.
    AttrOutcome out;
    struct stat st{};
    bool inherit = false;
    if (!st_in) {
        // Upstream returns "changed" here: nothing to compare in a dry run.
        if (s.dry_run) {
            out.updated = true;
            return out;
        }
        const int rc = s.am_root < 0 ? fake_super_stat(writer, rel, fd, st, full_name, on_error)
                       : fd >= 0     ? (::fstat(fd, &st) == 0 ? 0 : errno)
                                     : writer.lstat(rel, st);
        if (rc != 0) {
            on_error(rc, "stat " + full_name + " failed");
            out.ok = false;
            return out;
        }
        inherit = !s.preserve_perms;
    } else {
        st = *st_in;
        inherit = !s.preserve_perms && target.dir_created;
        // A file being written (temp or --inplace) is stat'ed here with its record, as
        // upstream's x_lstat of it would be.
        if (s.am_root < 0 && fd >= 0 && S_ISREG(st.st_mode)) {
            if (const int rc = fake_super_stat(writer, rel, fd, st, full_name, on_error); rc != 0) {
                on_error(rc, "stat " + full_name + " failed");
                out.ok = false;
                return out;
            }
        }
    }
    std::uint32_t new_mode = target.mode;
    if (inherit && protocol::is_dir(new_mode) && (st.st_mode & S_ISGID))
        new_mode |= S_ISGID;
    if (s.daemon_chmod && !protocol::is_symlink(new_mode))
        new_mode = s.daemon_chmod->tweak_mode(new_mode);

    // Upstream's am_root is true for "fake super" too (-1): owners are compared with what the
    // record says, and only the chown itself is left to set_stat_xattr.
    const bool change_uid = s.am_root != 0 && s.preserve_uid && target.uid && st.st_uid != *target.uid;
    const bool change_gid = s.preserve_gid && target.gid && st.st_gid != *target.gid;
    if ((change_uid || change_gid) && s.am_root >= 0) {
        const uid_t uid = change_uid ? static_cast<uid_t>(*target.uid) : st.st_uid;
        const gid_t gid = change_gid ? static_cast<gid_t>(*target.gid) : st.st_gid;
        // Upstream's syscall.c wrappers (do_lchown, do_chmod, do_utimensat) change nothing
        // in a dry run and report success.
        const int rc = s.dry_run ? 0 : fd >= 0 ? ModuleWriter::fchown(fd, uid, gid) : writer.chown(rel, uid, gid);
        if (rc != 0) {
            on_error(rc, std::string(change_uid ? "chown " : "chgrp ") + full_name + " failed");
            out.ok = false;
            return out;
        }
        if (!s.dry_run && (st.st_mode & (S_ISUID | S_ISGID))) {
            // The kernel drops set-id bits on chown; see what is left.
            if (fd >= 0)
                (void)::fstat(fd, &st);
            else if (writer.lstat(rel, st) != 0) {
            }
        }
        out.updated = true;
    } else if (change_uid || change_gid) {
        out.updated = true;
    }
    if (s.am_root < 0 && !s.dry_run) // xattrs.c:set_stat_xattr does nothing in a dry run
        store_fake_super(writer, rel, fd, target, new_mode, full_name, on_error);

    bool skip_mtime = (flags & kAttrsSkipMtime) != 0;
    if ((s.omit_dir_times && S_ISDIR(st.st_mode)) || (s.omit_link_times && S_ISLNK(st.st_mode)))
        skip_mtime = true;
    else if (!s.preserve_mtimes)
        skip_mtime = true;
    if (!skip_mtime) {
        const bool accurate = (flags & kAttrsAccurateTime) != 0;
        const bool same = accurate ? (st.st_mtim.tv_sec == target.mtime &&
                                      static_cast<std::uint32_t>(st.st_mtim.tv_nsec) == target.mtime_nsec)
                                   : same_time(target.mtime, target.mtime_nsec, st.st_mtim.tv_sec,
                                               static_cast<std::uint32_t>(st.st_mtim.tv_nsec), s.modify_window);
        if (!same) {
            struct timespec ts{};
            ts.tv_sec = static_cast<time_t>(target.mtime);
            ts.tv_nsec = static_cast<long>(target.mtime_nsec);
            const int rc = s.dry_run ? 0
                           : fd >= 0 ? ModuleWriter::set_times(fd, ts, std::nullopt)
                                     : writer.set_times(rel, ts, std::nullopt);
            if (rc != 0) {
                if (S_ISLNK(st.st_mode) && (rc == EPERM || rc == ENOSYS || rc == EOPNOTSUPP)) {
                    out.time_failed = true;
                } else {
                    on_error(rc, "failed to set times on " + full_name);
                    out.ok = false;
                    return out;
                }
            } else {
                out.updated = true;
            }
        }
    }

    if ((st.st_mode & kChmodBits) != (new_mode & kChmodBits)) {
        int rc = 0;
        if (s.am_root < 0 || s.dry_run)
            rc = 0;
        else if (S_ISLNK(st.st_mode))
            rc = -1; // Linux cannot chmod a symlink: upstream's "ret == 1"
        else
            rc = fd >= 0 ? ModuleWriter::fchmod(fd, new_mode & kChmodBits) : writer.chmod(rel, new_mode & kChmodBits);
        if (rc > 0) {
            on_error(rc, "failed to set permissions on " + full_name);
            out.ok = false;
            return out;
        }
        if (rc == 0)
            out.updated = true;
    }
    return out;
}

} // namespace ocr::transfer
