// SPDX-License-Identifier: MIT
// Filesystem access confined beneath a module's root directory handle.
#pragma once

#include "common/unique_fd.hpp"
#include "transfer/stat_xattr.hpp"

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::transfer {

/// @brief Opens and inspects paths strictly beneath one directory handle.
///
/// Every path is relative to the root (a leading "/" is ignored) and is resolved by the
/// kernel with RESOLVE_BENEATH: ".." or a symlink that would leave the root fails (with
/// ELOOP, the errno upstream's confined opens report), even when a directory is swapped for a symlink while we work (the attack class
/// of CVE-2024-12747 and CVE-2026-29518). Symlinks inside the module may be followed in
/// the middle of a path, never in the last component unless asked.
class ModuleFs {
public:
    /// @param root an open directory handle; the ModuleFs takes ownership.
    explicit ModuleFs(UniqueFd root);

    [[nodiscard]] int root_fd() const noexcept { return root_.get(); }

    /// @brief Opens a directory (following in-module symlinks, including the last one).
    ///        With set_open_noatime(true) the directory itself is opened O_NOATIME.
    /// @return the handle, or an invalid one with errno set.
    [[nodiscard]] UniqueFd open_dir(std::string_view rel) const;
    /// @brief Opens a file for reading; the last component must not be a symlink unless
    ///        @p follow_last (then it must resolve within the module). With
    ///        set_open_noatime(true) the file is opened O_NOATIME.
    [[nodiscard]] UniqueFd open_read(std::string_view rel, bool follow_last = false) const;

    /// @brief --open-noatime: the directories and files the sender opens by name get
    ///        O_NOATIME, so an entry the module's uid does not own fails with EPERM as
    ///        upstream's (syscall.c:secure_relative_open_at_internal, sender.c:
    ///        sender_open_confined). Directories only passed through are not affected.
    void set_open_noatime(bool on) noexcept { open_noatime_ = on; }
    [[nodiscard]] bool open_noatime() const noexcept { return open_noatime_; }
    /// @brief lstat (or stat with @p follow) of @p rel beneath the root.
    /// @return 0 or -1 with errno set.
    int stat(std::string_view rel, struct stat& st, bool follow = false) const;
    /// @brief The target of the symlink @p rel (its parent directory resolved confined).
    ///        Under "fake super" a symlink is a regular file holding its target: a regular
    ///        file's first 4095 bytes are returned, a real symlink is read as such
    ///        (syscall.c:do_readlink_atfd on a sender).
    [[nodiscard]] std::optional<std::string> read_link(std::string_view rel) const;

    /// @brief Serves the module the "fake super" way: entries' user.rsync.%stat records
    ///        say their type, permissions, device numbers and owners (upstream am_root < 0).
    void set_fake_super(bool on) noexcept { fake_super_ = on; }
    [[nodiscard]] bool fake_super() const noexcept { return fake_super_; }
    /// @brief Lays @p rel's record over @p st, which is its lstat (or its stat when
    ///        @p follow) just taken (xattrs.c:x_lstat / x_stat). Only regular files and
    ///        directories carry a record; the entry is reopened read-only and non-blocking
    ///        (followed only beneath the module) and must still be the inode @p st describes.
    ///        Does nothing unless set_fake_super(true).
    [[nodiscard]] StatXattrLookup lay_over_record(std::string_view rel, struct stat& st, bool follow) const;
    /// @brief Same for the entry @p leaf of the open directory @p dir_fd (never followed).
    [[nodiscard]] StatXattrLookup lay_over_record_at(int dir_fd, const std::string& leaf, struct stat& st) const;
    /// @brief stat() of @p rel following a final symlink wherever it points, even out of
    ///        the module. Only metadata: this is upstream's fstatat() of a scanned name,
    ///        which -L, --copy-unsafe-links and --copy-dirlinks use to decide what a link
    ///        is; contents are only ever read through the confined opens.
    /// @param beneath a module-relative directory that @p rel's parent directories may not
    ///        leave (upstream confines them beneath its current directory when the module
    ///        is not a plain chroot); "" for the module root.
    int stat_through_link(std::string_view rel, struct stat& st, std::string_view beneath = {}) const;

    /// @brief Names in the directory @p dir (without "." and ".."), in readdir order.
    /// @return the names, or nullopt with errno set.
    [[nodiscard]] std::optional<std::vector<std::string>> list_dir(int dir_fd) const;

private:
    /// @brief Opens @p rel's parent directory; @p leaf gets the last component.
    [[nodiscard]] UniqueFd open_parent(std::string_view rel, std::string& leaf) const;
    [[nodiscard]] int openat_beneath(int dirfd, std::string_view rel, int flags, bool no_symlinks_at_all) const;

    /// @brief O_NOATIME when --open-noatime is on, else 0.
    [[nodiscard]] int noatime_flag() const noexcept;

    UniqueFd root_;
    bool fake_super_ = false;
    bool open_noatime_ = false;
};

/// @brief "." for an empty relative path, the path without leading slashes otherwise.
[[nodiscard]] std::string relative_to_root(std::string_view path);

} // namespace ocr::transfer
