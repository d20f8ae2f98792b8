// SPDX-License-Identifier: MIT
// One file-list entry as both ends of a transfer see it (upstream's file_struct plus the
// stat data the sender only needs while encoding), and the file-type tests rsync uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ocr::protocol {

/// @brief Device and inode of a hard-link candidate, as the sender's stat reported them.
struct DevIno {
    std::int64_t dev = 0;
    std::int64_t ino = 0;
};

/// @brief A file-list entry. Plain data; the encoder and decoder give the fields meaning.
///
/// On the sending side the caller fills it from lstat()/readlink() (sizes of devices and
/// specials are sent as 0 whatever is here). On the receiving side the decoder fills it
/// from the wire; ids are the sender's raw ids (mapping them is the caller's business).
struct FileEntry {
    /// Relative path with '/' separators, exactly as sent (the receiver's copy is cleaned
    /// as upstream cleans it: no empty or "." components, never "..").
    std::string name;
    std::uint32_t mode = 0; ///< full st_mode including the type bits
    std::int64_t size = 0;  ///< st_size; the target length for symlinks
    std::int64_t mtime = 0;
    std::uint32_t mtime_nsec = 0; ///< 0..999999999; sent from protocol 31
    std::int64_t atime = 0;       ///< used only with --atimes
    std::int64_t crtime = 0;      ///< used only with --crtimes
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    /// Names that travelled inline with the entry (incremental recursion, receiver side).
    std::optional<std::string> user_name;
    std::optional<std::string> group_name;
    std::uint32_t rdev_major = 0; ///< devices (and specials before protocol 31)
    std::uint32_t rdev_minor = 0;
    std::string symlink_target; ///< for symlinks when links are preserved
    std::string checksum;       ///< whole-file sum for --checksum (regular files)

    // --- hard links --------------------------------------------------------------
    /// Sender: device/inode from stat; the encoder decides from @ref nlink and the
    /// protocol whether the entry takes part in hard-link tracking.
    std::optional<DevIno> dev_ino;
    std::uint32_t nlink = 1; ///< sender: st_nlink
    /// Receiver: the hard-link group (upstream F_HL_GNUM) when the entry is hard-linked
    /// and -H is on, else -1. From protocol 30 it is the list index of the group's first
    /// member in received order; below 30 a counter per distinct dev/ino.
    std::int32_t hlink_group = -1;
    bool hlink_first = false; ///< receiver, protocol 30+: the entry carried XMIT_HLINK_FIRST

    // --- flags -------------------------------------------------------------------
    bool top_dir = false;     ///< a top-level item of the transfer (upstream FLAG_TOP_DIR)
    bool content_dir = false; ///< a directory whose contents are in the transfer
    bool implied_dir = false; ///< a parent directory sent only to carry attributes (-R)
    bool duplicate = false;   ///< sender: a directory repeated in its list (FLAG_DUPLICATE)
    bool active = true;       ///< receiver: false when dropped as a duplicate (slot kept)
};

/// @name File-type tests on a full st_mode (the values are the same on every POSIX system
///       rsync talks to, and the wire carries them unchanged).
/// @{
inline constexpr std::uint32_t kModeTypeMask = 0170000;
inline constexpr std::uint32_t kModeSocket = 0140000;
inline constexpr std::uint32_t kModeSymlink = 0120000;
inline constexpr std::uint32_t kModeRegular = 0100000;
inline constexpr std::uint32_t kModeBlock = 0060000;
inline constexpr std::uint32_t kModeDir = 0040000;
inline constexpr std::uint32_t kModeChar = 0020000;
inline constexpr std::uint32_t kModeFifo = 0010000;

[[nodiscard]] constexpr bool is_dir(std::uint32_t mode) noexcept
{
    return (mode & kModeTypeMask) == kModeDir;
}
[[nodiscard]] constexpr bool is_regular(std::uint32_t mode) noexcept
{
    return (mode & kModeTypeMask) == kModeRegular;
}
[[nodiscard]] constexpr bool is_symlink(std::uint32_t mode) noexcept
{
    return (mode & kModeTypeMask) == kModeSymlink;
}
/// @brief Character or block device (upstream IS_DEVICE).
[[nodiscard]] constexpr bool is_device(std::uint32_t mode) noexcept
{
    const std::uint32_t t = mode & kModeTypeMask;
    return t == kModeChar || t == kModeBlock;
}
/// @brief FIFO or socket (upstream IS_SPECIAL).
[[nodiscard]] constexpr bool is_special(std::uint32_t mode) noexcept
{
    const std::uint32_t t = mode & kModeTypeMask;
    return t == kModeFifo || t == kModeSocket;
}
/// @brief One of the seven standard file types (what 3.5.0 accepts from a peer).
[[nodiscard]] constexpr bool is_standard_type(std::uint32_t mode) noexcept
{
    return is_dir(mode) || is_regular(mode) || is_symlink(mode) || is_device(mode) ||
           is_special(mode);
}
/// @}

/// @brief Counters both ends keep while a list goes by (upstream stats.num_* and
///        total_size, updated in send_file_entry / recv_file_list).
struct FlistStats {
    std::int64_t num_files = 0; ///< entries of every type
    std::int64_t num_dirs = 0;
    std::int64_t num_symlinks = 0;
    std::int64_t num_devices = 0;
    std::int64_t num_specials = 0;
    std::int64_t total_size = 0; ///< sizes of regular files and symlinks
};

} // namespace ocr::protocol
