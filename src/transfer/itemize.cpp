// SPDX-License-Identifier: MIT
// The ITEM_* change flags of a file-list entry and the 11-character "%i" string built from them.
#include "transfer/itemize.hpp"

#include <sys/stat.h>

namespace ocr::transfer {
namespace {

constexpr std::size_t kItemizeLength = 11;

bool has(std::uint32_t flags, std::uint32_t bit) noexcept
{
    return (flags & bit) != 0;
}

char file_type_column(std::uint32_t mode) noexcept
{
    // Upstream rsync.h IS_SPECIAL (sockets, FIFOs) and IS_DEVICE (char, block); anything
    // else that is not a directory is shown as a file.
    if (S_ISDIR(mode))
        return 'd';
    if (S_ISSOCK(mode) || S_ISFIFO(mode))
        return 'S';
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return 'D';
    return 'f';
}

char update_type_column(const ItemizeView& v) noexcept
{
    if (has(v.iflags, kItemLocalChange))
        return has(v.iflags, kItemXnameFollows) ? 'h' : 'c';
    if (!has(v.iflags, kItemTransfer))
        return '.';
    // Only a real network peer sees '<': a local copy logs its sends as '>'.
    return !v.local_server && v.sending ? '<' : '>';
}

char time_column(const ItemizeView& v) noexcept
{
    if (!has(v.iflags, kItemReportTime))
        return '.';
    if (!v.preserve_mtimes)
        return 'T';
    if (S_ISLNK(v.mode) && (!v.receiver_symlink_times || has(v.iflags, kItemReportTimefail)))
        return 'T';
    return 't';
}

char time_extra_column(std::uint32_t iflags) noexcept
{
    const bool atime = has(iflags, kItemReportAtime);
    const bool crtime = has(iflags, kItemReportCrtime);
    if (atime && crtime)
        return 'b';
    if (atime)
        return 'u';
    return crtime ? 'n' : '.';
}

} // namespace

std::string itemize_string(const ItemizeView& view)
{
    // Upstream: log.c:log_formatted, case 'i'.
    if (has(view.iflags, kItemDeleted))
        return "*deleting  ";

    const std::uint32_t f = view.iflags;
    const bool symlink = S_ISLNK(view.mode);
    std::string s(kItemizeLength, '.');
    s[0] = update_type_column(view);
    s[1] = symlink ? 'L' : file_type_column(view.mode);
    s[2] = has(f, kItemReportChange) ? 'c' : '.';
    // The size bit doubles as TIMEFAIL for symlinks, so a symlink never shows 's'.
    s[3] = !symlink && has(f, kItemReportSize) ? 's' : '.';
    s[4] = time_column(view);
    s[5] = has(f, kItemReportPerms) ? 'p' : '.';
    s[6] = has(f, kItemReportOwner) ? 'o' : '.';
    s[7] = has(f, kItemReportGroup) ? 'g' : '.';
    s[8] = time_extra_column(f);
    s[9] = has(f, kItemReportAcl) ? 'a' : '.';
    s[10] = has(f, kItemReportXattr) ? 'x' : '.';

    if (has(f, kItemIsNew | kItemMissingData)) {
        const char fill = has(f, kItemIsNew) ? '+' : '?';
        for (std::size_t i = 2; i < kItemizeLength; ++i)
            s[i] = fill;
    } else if (s[0] == '.' || s[0] == 'h' || s[0] == 'c') {
        // Nothing changed in the attributes: upstream prints blanks instead of dots.
        bool all_dots = true;
        for (std::size_t i = 2; i < kItemizeLength; ++i)
            all_dots = all_dots && s[i] == '.';
        if (all_dots)
            for (std::size_t i = 2; i < kItemizeLength; ++i)
                s[i] = ' ';
    }
    return s;
}

std::uint32_t implied_item_flags(int protocol_version) noexcept
{
    // Upstream: rsync.c:read_ndx_and_attrs.
    return protocol_version >= 29 ? 0u : kItemTransfer | kItemMissingData;
}

bool is_item_keepalive(int protocol_version, std::int64_t ndx, std::int64_t used,
                       std::uint32_t iflags) noexcept
{
    // Upstream: rsync.c:read_ndx_and_attrs (the protocol-29 keep-alive style).
    return protocol_version < 30 && ndx == used && iflags == kItemIsNew;
}

std::uint32_t symlink_timeset_failed_flags(int protocol_version, bool am_server) noexcept
{
    // Upstream: generator.c:generate_files.
    return kItemReportTime | (protocol_version >= 30 || !am_server ? kItemReportTimefail : 0u);
}

std::uint32_t compute_item_flags(const ItemizeCompare& c) noexcept
{
    // Upstream: generator.c:itemize, the flag computation.
    std::uint32_t iflags = c.iflags;
    if (c.dest_exists) {
        bool keep_time = false;
        if (c.preserve_mtimes) {
            if (S_ISDIR(c.file_mode))
                keep_time = !c.omit_dir_times;
            else if (S_ISLNK(c.file_mode))
                keep_time = !c.omit_link_times;
            else
                keep_time = true;
        }
        if (S_ISREG(c.file_mode) && c.file_length != c.dest_size)
            iflags |= kItemReportSize;
        if (c.time_failed) {
            if (has(iflags, kItemLocalChange))
                iflags |= c.timeset_failed_flags;
        } else if (keep_time ? c.mtime_differs
                             : has(iflags, kItemTransfer | kItemLocalChange) && !has(iflags, kItemMatched)
                                   && (!has(iflags, kItemXnameFollows) || c.has_xname)) {
            iflags |= kItemReportTime;
        }
        if (c.atime_differs)
            iflags |= kItemReportAtime;
        if (c.crtime_differs)
            iflags |= kItemReportCrtime;
        // Linux cannot chmod a symlink (no CAN_CHMOD_SYMLINK), so their perms never differ.
        if (!S_ISLNK(c.file_mode)) {
            constexpr std::uint32_t kChmodBits = 07777;
            if (c.preserve_perms) {
                if ((c.dest_mode & kChmodBits) != (c.file_mode & kChmodBits))
                    iflags |= kItemReportPerms;
            } else if (c.preserve_executability
                       && ((c.dest_mode & 0111) != 0) != ((c.file_mode & 0111) != 0)) {
                iflags |= kItemReportPerms;
            }
        }
        if (c.owner_differs)
            iflags |= kItemReportOwner;
        if (c.group_differs)
            iflags |= kItemReportGroup;
        if (c.acl_differs)
            iflags |= kItemReportAcl;
        if (c.xattr_differs)
            iflags |= kItemReportXattr;
    } else {
        if (c.xattr_differs)
            iflags |= kItemReportXattr;
        iflags |= kItemIsNew;
    }
    return iflags & kItemWireMask;
}

bool item_is_reported(std::uint32_t iflags, int info_name_level, int stdout_format_has_i,
                      bool has_xname) noexcept
{
    // Upstream: generator.c:itemize (ITEM_REPORT_XATTR is already inside the significant set).
    return has(iflags, kSignificantItemFlags) || info_name_level >= 2 || stdout_format_has_i > 1
        || has_xname;
}

bool server_logs_untransferred_item(std::uint32_t iflags, bool itemizing, bool has_hlink,
                                    int stdout_format_has_i, int info_name_level, bool dry_run,
                                    bool logfile_format_has_i) noexcept
{
    // Upstream: log.c:maybe_log_item, the am_server branch.
    const bool significant = has(iflags, kSignificantItemFlags);
    const bool see_item = itemizing
        && (significant || has_hlink || stdout_format_has_i > 1
            || (info_name_level >= 2 && stdout_format_has_i != 0));
    return !dry_run && see_item && (significant || logfile_format_has_i);
}

} // namespace ocr::transfer
