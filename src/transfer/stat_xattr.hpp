// SPDX-License-Identifier: MIT
// The "fake super" record user.rsync.%stat: its text, its parser and what a push does with it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// The xattr a "fake super" module keeps privileged attributes in (upstream XSTAT_ATTR).
inline constexpr const char* kStatXattrName = "user.rsync.%stat";
/// The longest value upstream reads back: it asks for at most 255 bytes, so a longer value
/// fails with ERANGE (xattrs.c:get_stat_xattr's 256-byte buffer).
inline constexpr std::size_t kStatXattrMaxLen = 255;

/// @brief The attributes one user.rsync.%stat record holds.
struct StatXattr {
    std::uint32_t mode = 0;        ///< file type and permission bits, all 32 bits as parsed
    std::uint32_t rdev_major = 0;  ///< device numbers (0,0 for anything but a device)
    std::uint32_t rdev_minor = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;

    friend bool operator==(const StatXattr&, const StatXattr&) = default;
};

/// @brief The record's text, "%o %u,%u %u:%u" (mode in octal, then major,minor and uid:gid).
[[nodiscard]] std::string format_stat_xattr(const StatXattr& x);

/// @brief Parses a record the way upstream's sscanf("%o %d,%d %d:%d") reads it: white space
///        before each number and an optional sign are accepted, the value stops at its first
///        NUL byte, anything after the fifth number is ignored, numbers that overflow
///        saturate as strtoul/strtol do before being cut to 32 bits.
/// @param value the raw bytes of the xattr (untrusted: anyone who can write into the module
///        can set it); at most kStatXattrMaxLen bytes are looked at.
/// @return the record, or nullopt when it is malformed (upstream: "Corrupt ... xattr").
[[nodiscard]] std::optional<StatXattr> parse_stat_xattr(std::string_view value) noexcept;

/// @brief The value as upstream prints it in its "Corrupt" message (up to the first NUL).
[[nodiscard]] std::string stat_xattr_shown(std::string_view value);

/// @brief Whether upstream looks for a record on an entry whose real type is @p real_mode:
///        never on real devices, FIFOs or sockets (xattrs.c:get_stat_xattr).
[[nodiscard]] bool stat_xattr_applies(mode_t real_mode) noexcept;

/// @brief Lays a record over a real stat: mode, rdev, uid and gid come from the record.
void overlay_stat_xattr(struct stat& st, const StatXattr& x) noexcept;

/// @brief What looking for an entry's record found.
struct StatXattrLookup {
    enum class Result {
        None,    ///< no record (or xattrs not supported here): the real stat stands
        Found,   ///< `record` holds it
        Corrupt, ///< malformed: `raw` holds the value (upstream ends the transfer, code 11)
        Failed,  ///< reading failed with `err` (upstream reports it and uses the real stat)
    };
    Result result = Result::None;
    StatXattr record;
    std::string raw;
    int err = 0;
};

/// @brief Reads the record of an open regular file or directory (fgetxattr; at most
///        kStatXattrMaxLen bytes, a longer value fails with ERANGE as upstream's does).
[[nodiscard]] StatXattrLookup read_stat_xattr(int fd);

/// @brief Upstream's reaction to a malformed record: its "Corrupt ... xattr" error and exit
///        code 11 (xattrs.c:get_stat_xattr).
/// @param full_name the entry as upstream's full_fname() shows it.
/// @throw protocol::ProtocolError always.
[[noreturn]] void throw_corrupt_stat_xattr(const std::string& full_name, std::string_view raw);

/// @brief What storing an entry's attributes under "fake super" has to do.
struct StatXattrPlan {
    /// The real permission bits to give the entry (none of the set-id bits, always owner
    /// read and write, and search on directories); nullopt when they are already right.
    std::optional<mode_t> chmod_to;
    enum class Action { Keep, Remove, Write };
    Action action = Action::Keep;
    /// The record to write (Action::Write).
    std::string value;
};

/// @brief The decision of upstream's xattrs.c:set_stat_xattr.
/// @param real the entry's real lstat (type, permissions, rdev, owner).
/// @param current the record it has now, nullopt when none.
/// @param new_mode the mode the entry should have (type and CHMOD bits are used).
/// @param rdev the device numbers it should have (used only when new_mode is a device).
/// @param uid the owner it should have; @param gid the group it should have.
[[nodiscard]] StatXattrPlan plan_stat_xattr(const struct stat& real, const std::optional<StatXattr>& current,
                                            mode_t new_mode, dev_t rdev, std::uint32_t uid, std::uint32_t gid);

} // namespace ocr::transfer
