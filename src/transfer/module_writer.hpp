// SPDX-License-Identifier: MIT
// Every filesystem change a push makes, confined beneath the module root by no-follow handles.
#pragma once

#include "common/unique_fd.hpp"
#include "transfer/stat_xattr.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// Result of one operation: 0 or an errno value.
using Errno = int;

/// A temporary file being filled, in the directory where it will be renamed into place.
struct TempFile {
    UniqueFd fd;      ///< open O_RDWR, mode 0600 at creation
    UniqueFd dir;     ///< the directory that holds it (O_PATH|O_DIRECTORY)
    std::string name; ///< its name inside dir, e.g. ".file.txt.a8Xk2Q"; empty once renamed or discarded
};

/// @brief Creates, writes, renames, deletes and changes attributes strictly beneath a module root.
///
/// Every module-relative name is split into a parent path, resolved by the kernel with
/// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS into a directory handle, and a
/// leaf on which one *at() call with no-follow semantics acts. So no symlink anywhere in a name is
/// followed, and a directory swapped for a symlink between two calls makes the second call fail
/// instead of acting outside the module (the attack classes of CVE-2024-12087/12088).
///
/// Names: leading slashes are ignored; a ".." component fails with ELOOP; a leaf of "", "." or
/// ".." (after removing the parent part) fails with EINVAL, as does an embedded NUL.
class ModuleWriter {
public:
    /// @param root_fd the module root directory (not owned; must outlive the writer).
    explicit ModuleWriter(int root_fd);

    /// @brief --open-noatime (or the module's "open noatime"): open_read adds O_NOATIME,
    ///        as upstream's syscall.c opens do for basis files.
    void set_open_noatime(bool on) noexcept { open_noatime_ = on; }

    /// Directory handle of a module-relative directory ("", "." or "/" = the root). No symlink
    /// anywhere on the path is followed; ".." fails with ELOOP. The handle is O_RDONLY|O_DIRECTORY
    /// (listable, fchmod-able), or O_PATH|O_DIRECTORY when the directory is not readable to us.
    [[nodiscard]] UniqueFd open_dir(std::string_view rel, Errno& err) const;
    /// lstat of rel (the last component is never followed; no symlink in the parents either).
    [[nodiscard]] Errno lstat(std::string_view rel, struct stat& st) const;
    /// @brief The target of the symlink at @p rel (at most 4095 bytes), or nullopt when it
    ///        is not one or cannot be read.
    [[nodiscard]] std::optional<std::string> read_link(std::string_view rel) const;
    /// @brief stat() of @p rel following symlinks (anywhere on the path) only as long as they
    ///        stay beneath the module root: metadata only, for the checks upstream makes with
    ///        do_stat (main.c:do_recv on --backup-dir). Nothing is opened for reading.
    /// @return 0, or the errno (ELOOP for a path that would leave the module).
    [[nodiscard]] Errno stat_beneath(std::string_view rel, struct stat& st) const;
    /// Opens an existing regular file for reading (basis file), never through a symlink.
    /// Anything but a regular file fails (EISDIR for a directory, EINVAL otherwise) without being
    /// opened, so a device or FIFO planted under the name is never opened.
    [[nodiscard]] UniqueFd open_read(std::string_view rel, Errno& err) const;

    /// Creates a temporary file for final name `final_rel`: in final_rel's directory, or in the
    /// module-relative `tmp_dir` when not empty (upstream --temp-dir); named as
    /// receiver.c:get_tmpname does, created O_EXCL|O_NOFOLLOW with mode 0600, retried on EEXIST.
    [[nodiscard]] std::optional<TempFile> create_temp(std::string_view final_rel, std::string_view tmp_dir,
                                                      Errno& err) const;
    /// Same with the creation mode upstream's open_tmpfile uses: (perms | S_IWUSR) & 0700.
    /// `tried` (if given) gets the last name tried, if any: on failure, the name upstream's
    /// error message shows (do_mkstemp_atfd fills its template in place).
    [[nodiscard]] std::optional<TempFile> create_temp(std::string_view final_rel, std::string_view tmp_dir,
                                                      Errno& err, mode_t perms, std::string* tried = nullptr) const;
    /// The name (no directory) create_temp gives a temp file for `final_rel` (with `tmp_dir` as
    /// passed to create_temp), with "XXXXXX" where the six random characters go; nullopt when it
    /// cannot fit (receiver.c:get_tmpname's "temporary filename too long").
    [[nodiscard]] static std::optional<std::string> temp_name_template(std::string_view final_rel,
                                                                       std::string_view tmp_dir);

    /// Renames the temp file onto final_rel (renameat from temp.dir to final_rel's directory).
    /// Returns EXDEV unchanged when they are on different filesystems (possible with tmp_dir),
    /// leaving the temp file in place: the caller then uses copy_into_place, as upstream's
    /// util1.c:robust_rename falls back to copy_file. On success temp.name becomes empty.
    [[nodiscard]] Errno rename_into_place(TempFile& temp, std::string_view final_rel) const;
    /// rename_into_place, and on EXDEV copy_into_place; `copied` tells which happened (upstream's
    /// rsync.c:finish_transfer re-applies the attributes after a copy).
    [[nodiscard]] Errno rename_into_place(TempFile& temp, std::string_view final_rel, bool& copied) const;
    /// The cross-filesystem fallback: copies temp's data, mode, times, owner (when permitted) and
    /// fake-super xattr into a new temp file in final_rel's directory, renames that into place and
    /// removes the old temp file. On success `temp` describes the new file (fd refers to the final
    /// file, name is empty).
    [[nodiscard]] Errno copy_into_place(TempFile& temp, std::string_view final_rel) const;
    /// Removes a temp file that will not be used (errors ignored; never throws).
    void discard(TempFile& temp) const noexcept;
    /// Opens final_rel for --inplace/--append writing: O_WRONLY|O_CREAT (mode 0600 when created),
    /// never following a symlink at the last component or in the parents. An existing entry that
    /// is not a regular file fails (EISDIR / EINVAL) without being opened.
    [[nodiscard]] UniqueFd open_inplace(std::string_view rel, Errno& err) const;

    /// mkdirat; `mode` is subject to the process umask, as upstream's mkdir is.
    [[nodiscard]] Errno mkdir(std::string_view rel, mode_t mode) const;
    [[nodiscard]] Errno symlink(std::string_view target, std::string_view rel) const; ///< target is stored as is
    [[nodiscard]] Errno mknod(std::string_view rel, mode_t mode, dev_t dev) const;   ///< FIFOs, sockets, devices
    [[nodiscard]] Errno link(std::string_view existing_rel, std::string_view new_rel) const; ///< hard link, no follow
    [[nodiscard]] Errno unlink(std::string_view rel) const;
    [[nodiscard]] Errno rmdir(std::string_view rel) const;
    /// renameat of an existing entry (backups: -b, --backup-dir); both names module-relative.
    [[nodiscard]] Errno rename(std::string_view from_rel, std::string_view to_rel) const;
    /// Creates the missing directories of rel's parent path (util1.c:make_path with
    /// MKP_DROP_NAME; upstream passes ACCESSPERMS = 0777, which the umask trims). Walks one
    /// component at a time with O_NOFOLLOW, so a symlink on the way fails with ENOTDIR/ELOOP.
    /// @return how many directories were created, or -errno.
    [[nodiscard]] int make_parent_dirs(std::string_view rel, mode_t mode) const;

    /// Called with each deleted module-relative name (children before their directory) and
    /// whether it was a directory; returning false stops the removal (--max-delete).
    using DeletedFn = std::function<bool(std::string_view rel, bool is_dir)>;
    /// Asked for each entry below the removed directory before it is touched; true keeps it
    /// (receiver-side protect filters), which leaves its directories non-empty.
    using KeepFn = std::function<bool(std::string_view rel, bool is_dir)>;

    /// Deletes rel; a directory recursively when `recurse` (delete.c:delete_item with
    /// DEL_RECURSE). Never follows a symlink: a symlink is unlinked, not entered. Children are
    /// deleted in the reverse of upstream's file-list order (delete.c:delete_dir_contents).
    /// @return 0; ECANCELED when the callback stopped it; ENOTEMPTY when something was kept or
    ///         could not be deleted (the first other errno is returned instead when there was one);
    ///         ENOENT only when rel itself does not exist; ELOOP beyond 256 directory levels.
    [[nodiscard]] Errno remove(std::string_view rel, bool recurse, const DeletedFn& on_deleted) const;
    /// remove() that leaves the entries `keep` selects.
    [[nodiscard]] Errno remove(std::string_view rel, bool recurse, const DeletedFn& on_deleted,
                               const KeepFn& keep) const;

    /// chmod, never through a symlink: a symlink leaf is a no-op returning 0 (Linux cannot chmod
    /// a symlink). Regular files, directories and FIFOs are opened O_NOFOLLOW and fchmod'ed; see
    /// the .cpp for the one fallback (devices, sockets, unreadable files) and why it is safe.
    [[nodiscard]] Errno chmod(std::string_view rel, mode_t mode) const;
    /// fchownat AT_SYMLINK_NOFOLLOW; uid/gid (uid_t)-1 / (gid_t)-1 = unchanged.
    [[nodiscard]] Errno chown(std::string_view rel, uid_t uid, gid_t gid) const;
    /// utimensat AT_SYMLINK_NOFOLLOW (a symlink's own times); atime nullopt = UTIME_OMIT.
    [[nodiscard]] Errno set_times(std::string_view rel, struct timespec mtime,
                                  std::optional<struct timespec> atime) const;
    /// Same on an open fd (for the temp file before its rename: fchmod/fchown/futimens).
    [[nodiscard]] static Errno fchmod(int fd, mode_t mode);
    [[nodiscard]] static Errno fchown(int fd, uid_t uid, gid_t gid);
    [[nodiscard]] static Errno set_times(int fd, struct timespec mtime, std::optional<struct timespec> atime);

    /// @brief "fake super" (upstream am_root < 0): a symlink becomes a regular file of mode
    ///        0600 holding the target (syscall.c:do_symlink_at on Linux, whose symlinks take no
    ///        user xattrs). Created O_EXCL|O_NOFOLLOW: the name must not exist.
    [[nodiscard]] Errno fake_symlink(std::string_view target, std::string_view rel) const;
    /// @brief "fake super": a device, FIFO or socket becomes an empty regular file of mode 0600
    ///        (syscall.c:do_mknod_at); its real type goes into the record. O_EXCL|O_NOFOLLOW.
    [[nodiscard]] Errno fake_mknod(std::string_view rel) const;
    /// @brief "fake super": the target a fake symlink holds, i.e. the first 4095 bytes of the
    ///        regular file rel (syscall.c:do_readlink_atfd). nullopt when rel is not a regular
    ///        file (a real symlink: upstream's "no length", so it gets replaced) or is empty.
    [[nodiscard]] std::optional<std::string> read_fake_symlink(std::string_view rel) const;
    /// @brief lstat of rel with its user.rsync.%stat record laid over it (xattrs.c:x_lstat).
    ///        Only regular files and directories are looked at; `found` tells what was seen
    ///        (a record, none, a corrupt one or an error reading it, which leaves st real).
    /// @return the lstat's errno, or 0.
    [[nodiscard]] Errno lstat_fake_super(std::string_view rel, struct stat& st, StatXattrLookup& found) const;
    /// @brief Same on an open file (xattrs.c:x_fstat).
    [[nodiscard]] static Errno fstat_fake_super(int fd, struct stat& st, StatXattrLookup& found);

    /// @brief Outcome of store_fake_super.
    struct StatXattrStore {
        enum class Step { None, Restat, Write, Remove };
        Errno err = 0;            ///< 0, or the errno of `step`
        Step step = Step::None;   ///< what failed
        bool corrupt = false;     ///< the current record is malformed (`raw`); nothing was changed
        std::string raw;
    };
    /// @brief Stores an entry's attributes the "fake super" way (xattrs.c:set_stat_xattr):
    ///        gives the real entry plain, usable permissions and writes, rewrites or removes
    ///        its user.rsync.%stat record. A symlink is left alone (Linux refuses user xattrs
    ///        on it, which upstream ignores).
    /// @param fd an open fd of rel (a temp file, the module root), or -1 to open rel here
    ///        (never through a symlink; the xattr calls go to that fd).
    [[nodiscard]] StatXattrStore store_fake_super(std::string_view rel, int fd, mode_t new_mode, dev_t rdev, uid_t uid,
                                                  gid_t gid) const;

    /// The fake-super xattr name and value (xattrs.c: XSTAT_ATTR, set_stat_xattr).
    static constexpr const char* fake_super_xattr_name = kStatXattrName;
    [[nodiscard]] static std::string fake_super_value(mode_t mode, dev_t rdev, uid_t uid, gid_t gid);
    /// Writes the fake-super xattr on rel (regular file or directory, opened O_NOFOLLOW). A symlink
    /// is a no-op returning 0 (Linux refuses user xattrs on symlinks; set_stat_xattr ignores that
    /// EPERM); other kinds fail with EPERM as the kernel would.
    [[nodiscard]] Errno set_fake_super_stat(std::string_view rel, mode_t mode, dev_t rdev, uid_t uid, gid_t gid) const;
    /// Removes the fake-super xattr (set_stat_xattr does when the real stat already matches).
    /// ENODATA when there was none.
    [[nodiscard]] Errno remove_fake_super_stat(std::string_view rel) const;
    /// lstat of rel with the xattr's mode/rdev/uid/gid overlaid. Returns 0 when overlaid;
    /// ENODATA (or ENOTSUP) with st = plain lstat when there is no xattr, and always for
    /// symlinks, devices and specials (xattrs.c:get_stat_xattr); EINVAL for a corrupt value.
    [[nodiscard]] Errno get_fake_super_stat(std::string_view rel, struct stat& st) const;
    /// Parses a fake-super value ("%o %d,%d %d:%d") into st; false when malformed.
    [[nodiscard]] static bool parse_fake_super_value(std::string_view value, struct stat& st);

private:
    /// Resolves rel's parent directory (O_PATH) and its leaf name.
    [[nodiscard]] UniqueFd open_parent(std::string_view rel, std::string& leaf, Errno& err) const;
    [[nodiscard]] Errno remove_children(int dir_fd, const std::string& dir_rel, int depth, const DeletedFn& on_deleted,
                                        const KeepFn& keep) const;

    int root_;
    bool open_noatime_ = false;
};

} // namespace ocr::transfer
