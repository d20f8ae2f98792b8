// SPDX-License-Identifier: MIT
// Metadata a push applies to what it writes (upstream rsync.c:set_file_attrs, dest_mode,
// generator.c:quick_check_ok's time test).
#pragma once

#include "protocol/flist_entry.hpp"
#include "transfer/chmod_rules.hpp"
#include "transfer/module_writer.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief The session settings set_file_attrs depends on.
struct AttrSettings {
    bool preserve_perms = false;
    bool preserve_executability = false;
    bool preserve_mtimes = false;
    bool omit_dir_times = false;
    bool omit_link_times = false;
    bool preserve_uid = false;
    bool preserve_gid = false;
    int am_root = 0; ///< 1 root, 0 not, -1 fake super
    bool dry_run = false;
    int modify_window = 0;
    /// The module's "incoming chmod" rules (upstream daemon_chmod_modes), or nullptr.
    const ChmodRules* daemon_chmod = nullptr;
};

/// upstream ATTRS_* flags.
inline constexpr int kAttrsReport = 1;
inline constexpr int kAttrsSkipMtime = 2;
inline constexpr int kAttrsAccurateTime = 4;

/// @brief What the entry should end up with (after dest_mode and id mapping).
struct AttrTarget {
    std::uint32_t mode = 0;
    std::int64_t mtime = 0;
    std::uint32_t mtime_nsec = 0;
    std::optional<std::uint32_t> uid;  ///< nullopt: leave the owner alone
    std::optional<std::uint32_t> gid;  ///< nullopt: leave the group alone (FLAG_SKIP_GROUP)
    std::uint32_t rdev_major = 0;      ///< a device's numbers ("fake super" records them)
    std::uint32_t rdev_minor = 0;
    bool dir_created = false;          ///< FLAG_DIR_CREATED (inherit a set-gid bit)
};

/// @brief What set_file_attrs did.
struct AttrOutcome {
    bool ok = true;          ///< false after an error was reported
    bool updated = false;    ///< something changed
    bool time_failed = false; ///< a symlink's time could not be set (FLAG_TIME_FAILED)
};

/// @brief Reports an errno failure in upstream rsyserr(FERROR_XFER, ...) form.
using AttrError = std::function<void(int err, const std::string& text)>;

/// @brief upstream util1.c:same_time.
[[nodiscard]] bool same_time(std::int64_t a_sec, std::uint32_t a_nsec, std::int64_t b_sec, std::uint32_t b_nsec,
                             int modify_window) noexcept;
/// @brief upstream generator.c:mtime_differs.
[[nodiscard]] bool mtime_differs(const struct stat& st, const protocol::FileEntry& e, int modify_window) noexcept;
/// @brief upstream rsync.c:dest_mode: the mode a new or existing entry gets without -p.
[[nodiscard]] std::uint32_t dest_mode(std::uint32_t flist_mode, std::uint32_t stat_mode, std::uint32_t dflt_perms,
                                      bool exists, bool preserve_executability) noexcept;

/// @brief Applies owner, group, times and mode to @p rel (or, when @p fd >= 0, to that open
///        file, which is @p rel's temp file) as upstream's set_file_attrs does. Under "fake
///        super" (settings.am_root < 0) @p st must be the stat with the entry's record laid
///        over it, and owner, group, mode and device numbers go into the record instead.
/// @throw protocol::ProtocolError (code 11) for a malformed user.rsync.%stat record.
/// @param st the entry's current stat, or nullptr to lstat it here (a dry run then does nothing).
/// @param full_name upstream full_fname(rel) for error texts.
AttrOutcome set_file_attrs(const ModuleWriter& writer, std::string_view rel, int fd, const AttrTarget& target,
                           const struct stat* st, const AttrSettings& settings, int flags,
                           const std::string& full_name, const AttrError& on_error);

} // namespace ocr::transfer
