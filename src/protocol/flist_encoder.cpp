// SPDX-License-Identifier: MIT
// File-list encoding. Field order, flag choices and the "previous entry" compression follow
// upstream flist.c:send_file_entry; the end marker write_end_of_flist; the trailer
// send_file_list; the id lists uidlist.c:send_id_lists.
#include "protocol/flist_encoder.hpp"

#include "protocol/flist_dev.hpp"
#include "protocol/flist_xmit.hpp"
#include "protocol/wire.hpp"

#include <stdexcept>

namespace ocr::protocol {
namespace {

// Upstream make_file sends 0 for nanoseconds outside the valid range.
constexpr std::uint32_t kMaxNsec = 999999999;
constexpr std::size_t kMaxSamePrefix = 255;
constexpr std::size_t kMaxShortSuffix = 255;

void put_varint30(std::string& out, int protocol, std::int32_t v)
{
    if (protocol < 30)
        put_i32(out, v);
    else
        put_varint(out, v);
}

void put_varlong30(std::string& out, int protocol, std::int64_t v, int min_bytes)
{
    if (protocol < 30)
        put_longint(out, v);
    else
        put_varlong(out, v, min_bytes);
}

void put_inline_name(std::string& out, const std::string& name)
{
    const std::size_t len = name.size() > kMaxIdNameLength ? kMaxIdNameLength : name.size();
    put_byte(out, static_cast<std::uint8_t>(len));
    out.append(name, 0, len);
}

std::uint32_t wire_nsec(const FileEntry& e) noexcept
{
    return e.mtime_nsec > kMaxNsec ? 0 : e.mtime_nsec;
}

} // namespace

FlistEncoder::FlistEncoder(const FlistOptions& opts, IdNameLookup user_names,
                           IdNameLookup group_names)
    : opts_(opts), users_(std::move(user_names)), groups_(std::move(group_names))
{
}

std::int32_t FlistEncoder::begin_list()
{
    if (in_list_)
        throw std::logic_error("FlistEncoder: previous list not ended");
    start_ = any_list_ ? start_ + count_ + 1 : (opts_.inc_recurse ? 1 : 0);
    count_ = 0;
    in_list_ = true;
    any_list_ = true;
    return start_;
}

std::int32_t FlistEncoder::begin_sublist(std::string& out, NdxEncoder& ndx, std::int32_t dir_ndx)
{
    if (in_list_ || !any_list_ || !opts_.inc_recurse)
        throw std::logic_error("FlistEncoder: sub-list outside incremental recursion");
    ndx.put(out, flist_header_ndx(dir_ndx));
    return begin_list();
}

void FlistEncoder::put_flist_eof(std::string& out, NdxEncoder& ndx)
{
    ndx.put(out, kNdxFlistEof);
}

std::uint32_t FlistEncoder::entry_flags(const FileEntry& e, bool& tracked,
                                        std::int32_t& first_hlink)
{
    const int proto = opts_.protocol;
    std::uint32_t xflags = 0;
    if (is_dir(e.mode)) {
        ++stats_.num_dirs;
        if (proto >= 30) {
            if (e.content_dir)
                xflags = e.top_dir ? xmit::kTopDir : 0;
            else if (e.implied_dir)
                xflags = xmit::kTopDir | xmit::kNoContentDir;
            else
                xflags = xmit::kNoContentDir;
        } else {
            xflags = e.top_dir ? xmit::kTopDir : 0;
        }
    } else if (is_symlink(e.mode)) {
        ++stats_.num_symlinks;
    } else if (is_device(e.mode)) {
        ++stats_.num_devices;
    } else if (is_special(e.mode)) {
        ++stats_.num_specials;
    }

    if (e.mode == mode_)
        xflags |= xmit::kSameMode;
    else
        mode_ = e.mode;

    if (opts_.preserve_devices && is_device(mode_)) {
        if (proto < 28) {
            if (e.rdev_major == rdev_major_ && e.rdev_minor == rdev_minor_) {
                xflags |= xmit::kSameRdevPre28;
            } else {
                rdev_major_ = e.rdev_major;
                rdev_minor_ = e.rdev_minor;
            }
        } else {
            rdev_major_ = e.rdev_major;
            rdev_minor_ = e.rdev_minor;
            if (rdev_major_ == last_major_)
                xflags |= xmit::kSameRdevMajor;
            else
                last_major_ = rdev_major_;
            if (proto < 30 && rdev_minor_ <= 0xFF)
                xflags |= xmit::kRdevMinor8Pre30;
        }
    } else if (opts_.preserve_specials && is_special(mode_) && proto < 31) {
        // Specials carry no device number; upstream sends the cheapest one it can.
        if (proto < 28) {
            xflags |= xmit::kSameRdevPre28;
        } else {
            rdev_major_ = last_major_;
            rdev_minor_ = 0;
            xflags |= xmit::kSameRdevMajor;
            if (proto < 30)
                xflags |= xmit::kRdevMinor8Pre30;
        }
    } else if (proto < 28) {
        rdev_major_ = rdev_minor_ = 0;
    }

    // The first entry of the session always carries its ids (upstream tests *lastname).
    if (!opts_.preserve_uid || (e.uid == uid_ && !lastname_.empty())) {
        xflags |= xmit::kSameUid;
    } else {
        uid_ = e.uid;
        if (opts_.numeric_ids == NumericIds::Off) {
            user_name_ = users_.add(uid_);
            if (opts_.inc_recurse && user_name_)
                xflags |= xmit::kUserNameFollows;
        }
    }
    if (!opts_.preserve_gid || (e.gid == gid_ && !lastname_.empty())) {
        xflags |= xmit::kSameGid;
    } else {
        gid_ = e.gid;
        if (opts_.numeric_ids == NumericIds::Off) {
            group_name_ = groups_.add(gid_);
            if (opts_.inc_recurse && group_name_)
                xflags |= xmit::kGroupNameFollows;
        }
    }
    if (e.mtime == mtime_)
        xflags |= xmit::kSameTime;
    else
        mtime_ = e.mtime;
    if (wire_nsec(e) != 0 && proto >= 31)
        xflags |= xmit::kModNsec;
    if (opts_.preserve_atimes && !is_dir(mode_)) {
        if (e.atime == atime_)
            xflags |= xmit::kSameAtime;
        else
            atime_ = e.atime;
    }
    if (opts_.preserve_crtimes) {
        crtime_ = e.crtime;
        if (crtime_ == mtime_)
            xflags |= xmit::kCrtimeEqMtime;
    }

    // Which entries take part in hard-link tracking (upstream flist.c:make_file).
    tracked = opts_.preserve_hard_links && e.dev_ino &&
              (proto >= 28 ? (!is_dir(e.mode) && e.nlink > 1) : is_regular(e.mode));
    first_hlink = -1;
    if (tracked) {
        if (proto >= 30) {
            const auto key = std::make_pair(e.dev_ino->dev, e.dev_ino->ino);
            const auto [it, inserted] = first_links_.try_emplace(key, start_ + count_);
            if (inserted)
                xflags |= xmit::kHlinkFirst;
            else
                first_hlink = it->second;
        } else if (e.dev_ino->dev == dev_) {
            if (proto >= 28)
                xflags |= xmit::kSameDevPre30;
        } else {
            dev_ = e.dev_ino->dev;
        }
        xflags |= xmit::kHlinked;
    }
    return xflags;
}

void FlistEncoder::put_flags(std::string& out, std::uint32_t& xflags, bool dir) const
{
    // A zero flag value (or first byte) would read as the end of the list; TOP_DIR means
    // nothing on a non-directory, so upstream uses it as filler.
    if (opts_.varint_flags) {
        put_varint(out, static_cast<std::int32_t>(xflags ? xflags : xmit::kExtendedFlags));
    } else if (opts_.protocol >= 28) {
        if (xflags == 0 && !dir)
            xflags |= xmit::kTopDir;
        if ((xflags & 0xFF00) || xflags == 0) {
            xflags |= xmit::kExtendedFlags;
            put_u16(out, static_cast<std::uint16_t>(xflags & 0xFFFF));
        } else {
            put_byte(out, static_cast<std::uint8_t>(xflags));
        }
    } else {
        // Protocol 27 has one flag byte; a directory gets LONG_NAME (its length then
        // goes as an int32) instead.
        if ((xflags & 0xFF) == 0)
            xflags |= dir ? xmit::kLongName : xmit::kTopDir;
        put_byte(out, static_cast<std::uint8_t>(xflags & 0xFF));
    }
}

void FlistEncoder::put_rdev(std::string& out, std::uint32_t xflags) const
{
    const int proto = opts_.protocol;
    if (proto < 28) {
        if (!(xflags & xmit::kSameRdevPre28))
            put_i32(out, static_cast<std::int32_t>(
                             static_cast<std::uint32_t>(make_dev({rdev_major_, rdev_minor_}))));
        return;
    }
    if (!(xflags & xmit::kSameRdevMajor))
        put_varint30(out, proto, static_cast<std::int32_t>(rdev_major_));
    if (proto >= 30)
        put_varint(out, static_cast<std::int32_t>(rdev_minor_));
    else if (xflags & xmit::kRdevMinor8Pre30)
        put_byte(out, static_cast<std::uint8_t>(rdev_minor_));
    else
        put_i32(out, static_cast<std::int32_t>(rdev_minor_));
}

void FlistEncoder::put_entry(std::string& out, const FileEntry& e)
{
    if (!in_list_)
        throw std::logic_error("FlistEncoder: put_entry outside a list");
    if (e.name.empty() || e.name.size() >= kMaxPathLen || e.name.find('\0') != std::string::npos)
        throw std::invalid_argument("file-list name is empty, too long or contains NUL");
    const bool send_link = opts_.preserve_links && is_symlink(e.mode);
    if (send_link && (e.symlink_target.empty() || e.symlink_target.size() >= kMaxPathLen))
        throw std::invalid_argument("symlink target is empty or too long: " + e.name);
    const bool send_sum = opts_.always_checksum && (is_regular(e.mode) || opts_.protocol < 28);
    if (send_sum && is_regular(e.mode) && e.checksum.size() != opts_.checksum_len)
        throw std::invalid_argument("checksum of " + e.name + " has the wrong length");

    const int proto = opts_.protocol;
    bool tracked = false;
    std::int32_t first_hlink = -1;
    std::uint32_t xflags = entry_flags(e, tracked, first_hlink);

    // Name: bytes shared with the previous name (at most 255), then the rest.
    std::size_t l1 = 0;
    while (l1 < lastname_.size() && l1 < e.name.size() && e.name[l1] == lastname_[l1] &&
           l1 < kMaxSamePrefix)
        ++l1;
    const std::size_t l2 = e.name.size() - l1;
    if (l1 > 0)
        xflags |= xmit::kSameName;
    if (l2 > kMaxShortSuffix)
        xflags |= xmit::kLongName;

    put_flags(out, xflags, is_dir(mode_));
    if (xflags & xmit::kSameName)
        put_byte(out, static_cast<std::uint8_t>(l1));
    if (xflags & xmit::kLongName)
        put_varint30(out, proto, static_cast<std::int32_t>(l2));
    else
        put_byte(out, static_cast<std::uint8_t>(l2));
    out.append(e.name, l1, l2);

    const bool regular_or_link = is_regular(mode_) || is_symlink(mode_);
    // A later link to a file already in this list is only its name and the index: the
    // receiver copies everything else from the first one.
    bool abbreviated = false;
    if (first_hlink >= 0) {
        put_varint(out, first_hlink);
        abbreviated = first_hlink >= start_;
    }
    if (!abbreviated) {
        // Devices and specials have no size (upstream make_file zeroes st_size).
        const std::int64_t size = is_device(mode_) || is_special(mode_) ? 0 : e.size;
        put_varlong30(out, proto, size, 3);
        if (!(xflags & xmit::kSameTime)) {
            if (proto >= 30)
                put_varlong(out, mtime_, 4);
            else
                put_i32(out, static_cast<std::int32_t>(mtime_));
        }
        if (xflags & xmit::kModNsec)
            put_varint(out, static_cast<std::int32_t>(wire_nsec(e)));
        if (opts_.preserve_crtimes && !(xflags & xmit::kCrtimeEqMtime))
            put_varlong(out, crtime_, 4);
        if (!(xflags & xmit::kSameMode))
            put_i32(out, static_cast<std::int32_t>(mode_));
        if (opts_.preserve_atimes && !is_dir(mode_) && !(xflags & xmit::kSameAtime))
            put_varlong(out, atime_, 4);
        if (opts_.preserve_uid && !(xflags & xmit::kSameUid)) {
            if (proto < 30) {
                put_i32(out, static_cast<std::int32_t>(uid_));
            } else {
                put_varint(out, static_cast<std::int32_t>(uid_));
                if (xflags & xmit::kUserNameFollows)
                    put_inline_name(out, *user_name_);
            }
        }
        if (opts_.preserve_gid && !(xflags & xmit::kSameGid)) {
            if (proto < 30) {
                put_i32(out, static_cast<std::int32_t>(gid_));
            } else {
                put_varint(out, static_cast<std::int32_t>(gid_));
                if (xflags & xmit::kGroupNameFollows)
                    put_inline_name(out, *group_name_);
            }
        }
        if ((opts_.preserve_devices && is_device(mode_)) ||
            (opts_.preserve_specials && is_special(mode_) && proto < 31))
            put_rdev(out, xflags);
        if (send_link) {
            put_varint30(out, proto, static_cast<std::int32_t>(e.symlink_target.size()));
            out.append(e.symlink_target);
        }
        if (tracked && proto < 30) {
            // Older protocols send dev + 1 so that it is never zero.
            if (proto < 26) {
                put_i32(out, static_cast<std::int32_t>(dev_ + 1));
                put_i32(out, static_cast<std::int32_t>(e.dev_ino->ino));
            } else {
                if (!(xflags & xmit::kSameDevPre30))
                    put_longint(out, dev_ + 1);
                put_longint(out, e.dev_ino->ino);
            }
        }
        if (send_sum) {
            // Before protocol 28 every entry carries a sum; non-files send zeros.
            if (is_regular(mode_))
                out.append(e.checksum);
            else
                out.append(opts_.checksum_len, '\0');
        }
    }
    lastname_ = e.name;
    if (regular_or_link)
        stats_.total_size += e.size;
    ++stats_.num_files;
    ++count_;
}

bool FlistEncoder::end_list(std::string& out, std::int32_t io_error)
{
    if (!in_list_)
        throw std::logic_error("FlistEncoder: end_list outside a list");
    in_list_ = false;
    const std::int32_t err = opts_.ignore_errors ? 0 : io_error;
    const bool carry = err != 0 && opts_.use_safe_inc_flist;
    if (opts_.varint_flags) {
        put_varint(out, 0);
        put_varint(out, carry ? err : 0);
    } else if (carry) {
        put_u16(out, static_cast<std::uint16_t>(xmit::kExtendedFlags | xmit::kIoErrorEndList));
        put_varint(out, err);
    } else {
        put_byte(out, 0);
    }
    return err == 0 || carry;
}

void FlistEncoder::put_first_list_trailer(std::string& out, std::int32_t io_error)
{
    if (id_lists_sent(opts_)) {
        if (opts_.preserve_uid)
            users_.encode(out, opts_.protocol, opts_.xmit_id0_names);
        if (opts_.preserve_gid)
            groups_.encode(out, opts_.protocol, opts_.xmit_id0_names);
    }
    if (opts_.protocol < 30)
        put_i32(out, opts_.ignore_errors ? 0 : io_error);
}

} // namespace ocr::protocol
