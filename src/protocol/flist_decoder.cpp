// SPDX-License-Identifier: MIT
// File-list decoding. Field order, state and checks follow upstream flist.c:recv_file_list
// and recv_file_entry (3.5.0), hlink.c:match_gnums for hard-link groups of incremental
// lists, and uidlist.c:recv_id_list. Error texts are upstream's.
#include "protocol/flist_decoder.hpp"

#include "protocol/flist_dev.hpp"
#include "protocol/flist_path.hpp"
#include "protocol/flist_sort.hpp"
#include "protocol/flist_xmit.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

namespace ocr::protocol {
namespace {

constexpr std::int32_t kMaxNsec = 999999999;
constexpr std::int32_t kIoErrorMask = 0x7; // upstream IOERR_VALID_MASK

std::int32_t get_varint30(ByteSource& in, int protocol)
{
    return protocol < 30 ? get_i32(in) : get_varint(in);
}

std::int64_t get_varlong30(ByteSource& in, int protocol, int min_bytes)
{
    return protocol < 30 ? get_longint(in) : get_varlong(in, min_bytes);
}

std::string read_bytes(ByteSource& in, std::size_t n)
{
    std::string s(n, '\0');
    in.read_exact(std::span<std::byte>(reinterpret_cast<std::byte*>(s.data()), s.size()));
    return s;
}

std::string octal(std::uint32_t v)
{
    std::ostringstream os;
    os << std::oct << v;
    return os.str();
}

std::string hex(std::uint32_t v)
{
    std::ostringstream os;
    os << std::hex << v;
    return os.str();
}

// The directory part of a name ("" for "/x"), or nullopt when it has none.
std::optional<std::string_view> dir_of(std::string_view name)
{
    const std::size_t slash = name.rfind('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    return name.substr(0, slash);
}

std::string_view base_of(std::string_view name)
{
    const std::size_t slash = name.rfind('/');
    return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

} // namespace

FlistDecoder::FlistDecoder(const FlistOptions& opts, std::string who, NameFilter filter)
    : opts_(opts), who_(std::move(who)), filter_(std::move(filter))
{
}

void FlistDecoder::fail(ExitCode code, const std::string& text)
{
    throw ProtocolError(code, text);
}

DecodedList FlistDecoder::read_first_list(ByteSource& in)
{
    if (first_done_)
        throw ProtocolError(ExitCode::Protocol, "the first file list was already received");
    return read_list(in, -1);
}

DecodedList FlistDecoder::read_sublist(ByteSource& in, std::int32_t dir_ndx)
{
    if (!opts_.inc_recurse || !first_done_)
        fail(ExitCode::Protocol, "rsync: refusing sub-flist without incremental recursion");
    // Upstream flist.c:recv_file_list, the CVE-2024-12087 family of checks.
    if (dir_ndx < 0 || static_cast<std::size_t>(dir_ndx) >= dirs_.size())
        fail(ExitCode::Protocol, "rsync: refusing invalid dir_ndx " +
                                     std::to_string(static_cast<std::uint32_t>(dir_ndx)) +
                                     " >= " + std::to_string(dirs_.size()));
    DirRecord& dir = dirs_[static_cast<std::size_t>(dir_ndx)];
    if (!dir.active)
        fail(ExitCode::Protocol,
             "rsync: refusing flist for cleared dir_ndx " + std::to_string(dir_ndx));
    if (dir.got_list)
        fail(ExitCode::Protocol,
             "rsync: refusing malicious duplicate flist for dir " + std::to_string(dir_ndx));
    dir.got_list = true;
    return read_list(in, dir_ndx);
}

bool FlistDecoder::read_flags(ByteSource& in, std::uint32_t& xflags)
{
    if (opts_.varint_flags) {
        xflags = static_cast<std::uint32_t>(get_varint(in));
        if (xflags == 0) {
            const std::int32_t err = get_varint(in);
            if (!opts_.ignore_errors)
                io_error_ |= err & kIoErrorMask;
            return false;
        }
        return true;
    }
    xflags = get_byte(in);
    if (xflags == 0)
        return false;
    if (opts_.protocol >= 28 && (xflags & xmit::kExtendedFlags))
        xflags |= std::uint32_t{get_byte(in)} << 8;
    if (xflags == (xmit::kExtendedFlags | xmit::kIoErrorEndList)) {
        if (!opts_.use_safe_inc_flist)
            fail(ExitCode::Protocol, "Invalid flist flag: " + hex(xflags));
        const std::int32_t err = get_varint(in);
        if (!opts_.ignore_errors)
            io_error_ |= err & kIoErrorMask;
        return false;
    }
    return true;
}

DecodedList FlistDecoder::read_list(ByteSource& in, std::int32_t dir_ndx)
{
    DecodedList out;
    out.ndx_start = first_done_ ? next_start_ : (opts_.inc_recurse ? 1 : 0);
    const std::string parent_name =
        dir_ndx >= 0 ? dirs_[static_cast<std::size_t>(dir_ndx)].name : std::string();
    std::vector<FileEntry>& list = out.entries;
    constexpr auto kIndexLimit =
        static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) - 1;

    std::uint32_t xflags = 0;
    while (read_flags(in, xflags)) {
        if (list.size() >= max_entries_ ||
            static_cast<std::size_t>(out.ndx_start) + list.size() >= kIndexLimit)
            fail(ExitCode::Malloc, "[" + who_ + "] file list has grown too large to expand");
        FileEntry e = read_entry(in, xflags, list, out.ndx_start);
        if (opts_.inc_recurse) {
            // Every entry of a list must sit directly in the directory it was announced
            // for; the first list holds only top-level names.
            std::string_view cur = dir_of(e.name).value_or(std::string_view());
            if (opts_.relative_paths && !cur.empty() && cur.front() == '/')
                cur.remove_prefix(1);
            if (cur != parent_name)
                fail(ExitCode::Unsupported,
                     "ABORTING due to invalid path from sender: " + std::string(cur) + "/" +
                         std::string(base_of(e.name)));
        }
        if (is_dir(e.mode))
            ++stats_.num_dirs;
        else if (is_symlink(e.mode))
            ++stats_.num_symlinks;
        else if (is_device(e.mode))
            ++stats_.num_devices;
        else if (!is_regular(e.mode))
            ++stats_.num_specials;
        list.push_back(std::move(e));
    }
    stats_.num_files += static_cast<std::int64_t>(list.size());
    next_start_ = out.ndx_start + static_cast<std::int32_t>(list.size()) + 1;
    const bool first = !first_done_;
    first_done_ = true;

    if (!opts_.inc_recurse && first)
        id_lists_ = read_id_lists(in, opts_);
    if (opts_.inc_recurse && opts_.preserve_hard_links && opts_.protocol >= 30)
        check_hard_link_groups(list, out.ndx_start);

    const SortResult sorted = sort_file_list(list, opts_.protocol, FlistSide::Receiver,
                                             opts_.inc_recurse, opts_.relative_paths);
    out.low = sorted.low;
    out.high = sorted.high;
    if (opts_.inc_recurse) {
        for (const FileEntry& e : list) {
            if (is_dir(e.mode))
                dirs_.push_back(DirRecord{e.name, e.active, false});
        }
    }

    if (opts_.protocol < 30) {
        const std::int32_t err = get_i32(in);
        if (!opts_.ignore_errors)
            io_error_ |= err & kIoErrorMask;
    }
    if (dir_ndx >= 0) {
        out.parent_dir_ndx = dir_ndx;
    } else if (opts_.inc_recurse) {
        // The first list's parent is the transfer root only when it really starts with a
        // "." directory (CVE-2026-70459: a non-directory "." left it pointing nowhere).
        const bool root = !list.empty() && !dirs_.empty() && out.low < list.size() &&
                          base_of(list[out.low].name) == ".";
        out.parent_dir_ndx = root ? 0 : -1;
    }
    return out;
}

std::string FlistDecoder::read_name(ByteSource& in, std::uint32_t xflags, std::size_t& l1)
{
    l1 = (xflags & xmit::kSameName) ? get_byte(in) : 0;
    const std::uint32_t l2 = (xflags & xmit::kLongName)
                                 ? static_cast<std::uint32_t>(get_varint30(in, opts_.protocol))
                                 : get_byte(in);
    if (l2 >= kMaxPathLen - l1)
        fail(ExitCode::Malloc, "overflow: xflags=0x" + hex(xflags) + " l1=" + std::to_string(l1) +
                                   " l2=" + std::to_string(static_cast<std::int32_t>(l2)) +
                                   " lastname=" + lastname_ + " [" + who_ + "]");
    // Stricter than upstream, which silently keeps only the previous name when a sender
    // claims more shared bytes than that name has.
    if (l1 > lastname_.size())
        fail(ExitCode::Protocol, "overflow: xflags=0x" + hex(xflags) + " l1=" + std::to_string(l1) +
                                     " exceeds lastname=" + lastname_ + " [" + who_ + "]");
    std::string raw = lastname_.substr(0, l1) + read_bytes(in, l2);
    // Upstream keeps C strings, so a NUL would silently cut the name; refuse it instead.
    if (raw.find('\0') != std::string::npos)
        fail(ExitCode::Unsupported,
             "ABORTING due to unsafe pathname from sender: " + raw.substr(0, raw.find('\0')));
    lastname_ = raw;
    return raw;
}

FileEntry FlistDecoder::read_entry(ByteSource& in, std::uint32_t xflags,
                                   const std::vector<FileEntry>& list, std::int32_t ndx_start)
{
    const int proto = opts_.protocol;
    std::size_t l1 = 0;
    const std::string raw = read_name(in, xflags, l1);

    FileEntry e;
    // Upstream turns an empty name into an inactive slot; no sender produces one, so it is
    // refused here like the unsafe names.
    if (raw.empty())
        fail(ExitCode::Unsupported, "ABORTING due to unsafe pathname from sender: ");
    const CleanedName cleaned = clean_received_name(raw);
    if (!cleaned.ok || (!opts_.relative_paths && cleaned.text.front() == '/'))
        fail(ExitCode::Unsupported, "ABORTING due to unsafe pathname from sender: " + cleaned.text);
    e.name = opts_.sanitize_paths ? sanitize_path(cleaned.text, 0) : cleaned.text;
    if (base_of(e.name).empty())
        fail(ExitCode::Unsupported, "ABORTING due to unsafe pathname from sender: " + e.name);

    const std::int32_t own_ndx = ndx_start + static_cast<std::int32_t>(list.size());
    std::int32_t first_hlink = -1;
    const FileEntry* first = nullptr;
    if (proto >= 30 && (xflags & xmit::kHlinked) && !(xflags & xmit::kHlinkFirst)) {
        first_hlink = get_varint(in);
        if (first_hlink < 0 || first_hlink >= own_ndx)
            fail(ExitCode::Protocol,
                 "hard-link reference out of range: " + std::to_string(first_hlink) + " (" +
                     std::to_string(own_ndx) + ")");
        if (first_hlink >= ndx_start)
            first = &list[static_cast<std::size_t>(first_hlink - ndx_start)];
    }

    std::int64_t link_len = -1;
    if (first)
        copy_from_first(*first, e);
    else
        link_len = read_attributes(in, xflags, e);

    e.mode = mode_;
    e.mtime = mtime_;
    if (opts_.preserve_atimes && !is_dir(mode_))
        e.atime = atime_;
    if (opts_.preserve_crtimes)
        e.crtime = crtime_;
    if (opts_.preserve_uid)
        e.uid = uid_;
    if (opts_.preserve_gid)
        e.gid = gid_;
    if (opts_.preserve_devices && is_device(mode_)) {
        e.rdev_major = rdev_major_;
        e.rdev_minor = rdev_minor_;
    }
    if (opts_.preserve_hard_links && proto < 28 && is_regular(mode_))
        xflags |= xmit::kHlinked;
    if (e.size < 0)
        fail(ExitCode::Unsupported, "Offset underflow: file-length is negative");
    // "." is the transfer root; as anything but a directory it would let --force remove
    // the destination (CVE-2026-70459).
    if ((e.name == "." || e.name == "/.") && !is_dir(mode_))
        fail(ExitCode::Protocol, "ERROR: rejecting non-directory transfer-root entry: " + e.name);
    if (e.name != "." && e.name != "/." && filter_ && filter_(e.name, is_dir(mode_)))
        fail(ExitCode::Unsupported, "ERROR: rejecting excluded file-list name: " + e.name);
    if (is_dir(mode_))
        set_dir_flags(xflags, raw.size(), l1, e);

    if (link_len >= 0) {
        e.symlink_target = read_bytes(in, static_cast<std::size_t>(link_len));
        // Upstream stores the target as a C string.
        if (const std::size_t nul = e.symlink_target.find('\0'); nul != std::string::npos)
            e.symlink_target.resize(nul);
        if (opts_.sanitize_paths && !opts_.munge_symlinks && !e.symlink_target.empty()) {
            const auto dir = dir_of(e.name);
            e.symlink_target = sanitize_path(e.symlink_target, dir ? count_dir_elements(*dir) : 0);
        }
    }
    read_hard_link(in, xflags, first_hlink, own_ndx, e);
    if (opts_.always_checksum && (is_regular(mode_) || proto < 28)) {
        if (first) {
            if (is_regular(mode_))
                e.checksum = first->checksum;
        } else {
            std::string sum = read_bytes(in, opts_.checksum_len);
            if (is_regular(mode_))
                e.checksum = std::move(sum);
        }
    }
    if (is_regular(mode_) || is_symlink(mode_))
        stats_.total_size += e.size;
    return e;
}

void FlistDecoder::copy_from_first(const FileEntry& first, FileEntry& e)
{
    // An abbreviated hard link takes everything from the earlier entry of this list, and so
    // does the "previous entry" state the following entries are compressed against.
    e.size = first.size;
    mtime_ = first.mtime;
    e.mtime_nsec = first.mtime_nsec;
    mode_ = first.mode;
    if (opts_.preserve_atimes && !is_dir(mode_))
        atime_ = first.atime;
    if (opts_.preserve_crtimes)
        crtime_ = first.crtime;
    if (opts_.preserve_uid)
        uid_ = first.uid;
    if (opts_.preserve_gid)
        gid_ = first.gid;
    if (opts_.preserve_devices && is_device(mode_)) {
        rdev_major_ = first.rdev_major;
        rdev_minor_ = first.rdev_minor;
    }
    if (opts_.preserve_links && is_symlink(mode_))
        e.symlink_target = first.symlink_target;
}

std::int64_t FlistDecoder::read_attributes(ByteSource& in, std::uint32_t xflags, FileEntry& e)
{
    const int proto = opts_.protocol;
    e.size = get_varlong30(in, proto, 3);
    if (!(xflags & xmit::kSameTime))
        mtime_ = proto >= 30 ? get_varlong(in, 4)
                             : static_cast<std::int64_t>(static_cast<std::uint32_t>(get_i32(in)));
    if (xflags & xmit::kModNsec) {
        const std::int32_t nsec = get_varint(in);
        if (nsec < 0 || nsec > kMaxNsec)
            fail(ExitCode::Protocol,
                 "wire value modtime_nsec out of range: " + std::to_string(nsec) + " not in [0," +
                     std::to_string(kMaxNsec) + "] [" + who_ + "]");
        e.mtime_nsec = static_cast<std::uint32_t>(nsec);
    }
    if (opts_.preserve_crtimes)
        crtime_ = (xflags & xmit::kCrtimeEqMtime) ? mtime_ : get_varlong(in, 4);
    if (!(xflags & xmit::kSameMode))
        mode_ = static_cast<std::uint32_t>(get_i32(in));
    // Only the standard file types (mode 0 is a --delete-missing-args entry). Upstream
    // checks a mode when it arrives; checking the mode in effect also covers a first entry
    // that claims SAME_MODE.
    if (mode_ == 0 ? !opts_.delete_missing_args : !is_standard_type(mode_))
        fail(ExitCode::Protocol,
             "invalid file mode 0" + octal(mode_) + " for " + lastname_ + " [" + who_ + "]");
    if (opts_.preserve_atimes && !is_dir(mode_) && !(xflags & xmit::kSameAtime))
        atime_ = get_varlong(in, 4);
    if (opts_.preserve_uid && !(xflags & xmit::kSameUid)) {
        if (proto < 30) {
            uid_ = static_cast<std::uint32_t>(get_i32(in));
        } else {
            uid_ = static_cast<std::uint32_t>(get_varint(in));
            if (xflags & xmit::kUserNameFollows) {
                std::string name = read_id_name(in);
                if (!name.empty())
                    e.user_name = std::move(name);
            }
        }
    }
    if (opts_.preserve_gid && !(xflags & xmit::kSameGid)) {
        if (proto < 30) {
            gid_ = static_cast<std::uint32_t>(get_i32(in));
        } else {
            gid_ = static_cast<std::uint32_t>(get_varint(in));
            if (xflags & xmit::kGroupNameFollows) {
                std::string name = read_id_name(in);
                if (!name.empty())
                    e.group_name = std::move(name);
            }
        }
    }
    if ((opts_.preserve_devices && is_device(mode_)) ||
        (opts_.preserve_specials && is_special(mode_) && proto < 31)) {
        if (proto < 28) {
            if (!(xflags & xmit::kSameRdevPre28)) {
                // An int32 widened to the sender's dev_t, sign and all.
                const auto dev = static_cast<std::uint64_t>(static_cast<std::int64_t>(get_i32(in)));
                const DevNumber d = split_dev(dev);
                rdev_major_ = d.major;
                rdev_minor_ = d.minor;
            }
        } else {
            if (!(xflags & xmit::kSameRdevMajor))
                rdev_major_ = static_cast<std::uint32_t>(get_varint30(in, proto));
            if (proto >= 30)
                rdev_minor_ = static_cast<std::uint32_t>(get_varint(in));
            else if (xflags & xmit::kRdevMinor8Pre30)
                rdev_minor_ = get_byte(in);
            else
                rdev_minor_ = static_cast<std::uint32_t>(get_i32(in));
        }
        e.size = 0;
    } else if (is_device(mode_)) {
        e.size = 0;
    } else if (proto < 28) {
        rdev_major_ = rdev_minor_ = 0;
    }
    if (opts_.preserve_links && is_symlink(mode_)) {
        const std::int64_t len = std::int64_t{get_varint30(in, proto)};
        if (len + 1 <= 0 || len + 1 > static_cast<std::int64_t>(kMaxPathLen))
            fail(ExitCode::Malloc, "overflow: linkname_len=" + std::to_string(len));
        return len;
    }
    return -1;
}

void FlistDecoder::set_dir_flags(std::uint32_t xflags, std::size_t raw_len, std::size_t l1,
                                 FileEntry& e)
{
    if (opts_.protocol >= 30) {
        if (!(xflags & xmit::kNoContentDir)) {
            e.top_dir = (xflags & xmit::kTopDir) != 0;
            e.content_dir = true;
        } else if (xflags & xmit::kTopDir) {
            e.implied_dir = true;
        }
        return;
    }
    // Before 30 a top-level directory starts a hierarchy whose directories are content
    // dirs; with -R that only holds below the top dir's own name.
    if (xflags & xmit::kTopDir) {
        const auto dir = dir_of(e.name);
        const int depth =
            (dir ? count_dir_elements(*dir) + 1 : 1) - (base_of(e.name) == "." ? 1 : 0);
        in_del_hier_ = opts_.recurse;
        del_hier_name_len_ = depth == 0 ? 0 : raw_len;
        if (opts_.relative_paths && del_hier_name_len_ > 2 &&
            lastname_[del_hier_name_len_ - 1] == '.' && lastname_[del_hier_name_len_ - 2] == '/')
            del_hier_name_len_ -= 2;
        e.top_dir = true;
        e.content_dir = true;
    } else if (in_del_hier_) {
        const char next =
            del_hier_name_len_ < lastname_.size() ? lastname_[del_hier_name_len_] : '\0';
        if (!opts_.relative_paths || del_hier_name_len_ == 0 ||
            (l1 >= del_hier_name_len_ && next == '/'))
            e.content_dir = true;
        else
            in_del_hier_ = false;
    }
}

void FlistDecoder::read_hard_link(ByteSource& in, std::uint32_t xflags, std::int32_t first_hlink,
                                  std::int32_t own_ndx, FileEntry& e)
{
    if (!opts_.preserve_hard_links || !(xflags & xmit::kHlinked))
        return;
    std::int32_t group = 0;
    if (opts_.protocol >= 30) {
        group = (xflags & xmit::kHlinkFirst) ? own_ndx : first_hlink;
    } else {
        std::int64_t ino = 0;
        if (opts_.protocol < 26) {
            dev_ = get_i32(in);
            ino = get_i32(in);
        } else {
            if (!(xflags & xmit::kSameDevPre30))
                dev_ = get_longint(in);
            ino = get_longint(in);
        }
        // Upstream keys its tables on dev + 1 and ino; zero keys are refused.
        if (static_cast<std::uint64_t>(dev_) + 1 == 0 || ino == 0)
            fail(ExitCode::MessageIo, "Internal hashtable error: illegal key supplied!");
        const auto [it, inserted] = old_groups_.try_emplace(std::make_pair(dev_, ino), next_group_);
        if (inserted)
            ++next_group_;
        group = it->second;
    }
    // Directories are never hard-linked; the flag on one is ignored (after reading its
    // data, so the stream stays aligned).
    if (!is_dir(mode_)) {
        e.hlink_group = group;
        e.hlink_first = opts_.protocol >= 30 && (xflags & xmit::kHlinkFirst);
    }
}

void FlistDecoder::check_hard_link_groups(const std::vector<FileEntry>& list,
                                          std::int32_t ndx_start)
{
    // A reference to an earlier list must name a group that list declared (upstream
    // hlink.c:match_gnums, checked in ascending group order).
    std::vector<std::int32_t> groups;
    for (const FileEntry& e : list) {
        if (e.hlink_group >= 0)
            groups.push_back(e.hlink_group);
    }
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    for (const std::int32_t g : groups) {
        if (g >= ndx_start || prior_groups_.count(g))
            continue;
        if (g == 0)
            fail(ExitCode::MessageIo, "Internal hashtable error: illegal key supplied!");
        fail(ExitCode::Protocol, "hard-link gnum " + std::to_string(g) + " precedes flist start " +
                                     std::to_string(ndx_start));
    }
    prior_groups_.insert(groups.begin(), groups.end());
}

} // namespace ocr::protocol
