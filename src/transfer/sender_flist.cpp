// SPDX-License-Identifier: MIT
// The sender's file lists. Behaviour follows upstream flist.c (send_file_list,
// send_file_name, make_file, readlink_stat, send_directory, send_if_directory,
// send_implied_dirs, send1extra, send_extra_file_list, add_dirs_to_tree) over our
// confined filesystem access; the walk order (readdir order, a directory's entries
// before its subdirectories) matches upstream so that the bytes on the wire do too.
#include "transfer/sender_flist.hpp"

#include "protocol/flist_sort.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/stat_xattr.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::FileEntry;
using protocol::ProtocolError;

// Upstream SYMLINK_PREFIX: what "munge symlinks" puts before every stored target.
constexpr std::string_view kSymlinkPrefix = "/rsyncd-munged/";
// Upstream MIN_FILECNT_LOOKAHEAD is the sender loop's business; this is how much list
// data we let accumulate before writing it out.
constexpr std::size_t kOutChunk = 64 * 1024;
// Linux MAXPATHLEN: longer names cannot be sent (upstream "skipping overly long name").
constexpr std::size_t kMaxPath = 4096;

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Upstream util1.c:clean_fname with flags 0: collapse "//", drop "./" components and a
// trailing "/" or "/." (but keep a lone "." and a leading "/").
std::string clean_name(std::string_view in)
{
    std::string out;
    bool anchored = !in.empty() && in.front() == '/';
    std::size_t i = 0;
    while (i < in.size()) {
        while (i < in.size() && in[i] == '/')
            ++i;
        const std::size_t start = i;
        while (i < in.size() && in[i] != '/')
            ++i;
        const std::string_view comp = in.substr(start, i - start);
        if (comp.empty() || comp == ".")
            continue;
        if (!out.empty() || anchored)
            out += '/';
        out += comp;
    }
    if (out.empty())
        return anchored ? "/" : ".";
    return out;
}

} // namespace

bool unsafe_symlink(std::string_view dest, std::string_view src)
{
    // Upstream util1.c:unsafe_symlink. Absolute and empty targets are unsafe.
    if (dest.empty() || dest.front() == '/')
        return true;
    std::string_view rest = dest;
    while (rest.substr(0, 3) == "../") {
        rest.remove_prefix(3);
        while (!rest.empty() && rest.front() == '/')
            rest.remove_prefix(1);
    }
    if (rest.find("/../") != std::string_view::npos)
        return true;
    if (dest.size() > 3 && dest.substr(dest.size() - 3) == "/..")
        return true;
    int depth = 0;
    // The link's own directory depth is the safety margin.
    std::size_t pos = 0;
    while (true) {
        const std::size_t slash = src.find('/', pos);
        if (slash == std::string_view::npos) {
            if (src.substr(pos) == "..")
                depth = 0;
            break;
        }
        const std::string_view comp = src.substr(pos, slash - pos);
        if (comp == "..")
            depth = 0;
        else if (comp != ".")
            ++depth;
        pos = slash + 1;
        while (pos < src.size() && src[pos] == '/')
            ++pos;
    }
    pos = 0;
    while (true) {
        const std::size_t slash = dest.find('/', pos);
        if (slash == std::string_view::npos) {
            if (dest.substr(pos) == "..")
                --depth;
            break;
        }
        const std::string_view comp = dest.substr(pos, slash - pos);
        if (comp == "..") {
            if (--depth < 0)
                return true;
        } else if (comp != ".") {
            ++depth;
        }
        pos = slash + 1;
        while (pos < dest.size() && dest[pos] == '/')
            ++pos;
    }
    return depth < 0;
}

SenderFileLists::SenderFileLists(const SenderOptions& options, Services services, const ChmodRules* chmod)
    : opt_(options), s_(std::move(services)), chmod_(chmod),
      encoder_(options.flist, s_.user_name, s_.group_name)
{
    pathnames_.emplace_back();
    pathname_index_.emplace(std::string(), 0);
}

std::uint32_t SenderFileLists::intern_pathname(const std::string& p)
{
    // Consecutive arguments usually share their directory: reuse the last one.
    if (pathnames_.back() == p)
        return static_cast<std::uint32_t>(pathnames_.size() - 1);
    const auto [it, added] = pathname_index_.try_emplace(p, static_cast<std::uint32_t>(pathnames_.size()));
    if (added)
        pathnames_.push_back(p);
    return it->second;
}

void SenderFileLists::change_pathname(const std::string& dir)
{
    cur_pathname_ = intern_pathname(dir);
    s_.filters.set_transfer_root(dir);
}

std::string SenderFileLists::join(const std::string& name) const
{
    const std::string& base = pathnames_[cur_pathname_];
    if (base.empty() || name.front() == '/')
        return name;
    if (name == ".")
        return base;
    return base + "/" + name;
}

std::string SenderFileLists::local_path(const SentFile& f) const
{
    const std::string& base = pathnames_[f.pathname];
    const std::string& name = f.entry.name;
    if (base.empty())
        return name;
    if (name == ".")
        return base;
    return base + "/" + name;
}

std::string SenderFileLists::full_fname(const std::string& name) const
{
    return full_fname_in(pathnames_[cur_pathname_], name);
}

std::string SenderFileLists::full_fname_of(const SentFile& f) const
{
    // Upstream's sender is in the file's directory (change_pathname) when it names it.
    return full_fname_in(pathnames_[f.pathname], f.entry.name);
}

std::string SenderFileLists::full_fname_in(const std::string& base, const std::string& name) const
{
    // Upstream util1.c:full_fname: names are shown from the module root, with a leading
    // "/" when the module is chrooted (its curr_dir then starts at the chroot's "/").
    std::string shown;
    if (!name.empty() && name.front() == '/') {
        shown = name;
    } else if (s_.chrooted) {
        shown = "/" + (base.empty() ? name : base + "/" + name);
    } else {
        shown = base.empty() ? name : "/" + base + "/" + name;
    }
    return "\"" + shown + "\" (in " + s_.module_name + ")";
}

void SenderFileLists::flush_out()
{
    if (!out_.empty() && !hold_out_) {
        s_.conn.write(out_);
        out_.clear();
    }
}

bool SenderFileLists::is_excluded(const std::string& name, bool is_dir, FilterLevel level) const
{
    switch (level) {
    case FilterLevel::None:
        return false;
    case FilterLevel::Server:
        return s_.filters.daemon_excluded(name, is_dir);
    case FilterLevel::All:
        return s_.filters.excluded(name, is_dir) != Exclusion::None;
    }
    return false;
}

std::string SenderFileLists::stat_anchor_for(const std::string& name) const
{
    // A name directly inside the directory being read is looked up through that directory
    // (upstream scan_link_stat), whatever path led there.
    if (scan_dir_ && name.size() > scan_dir_->size() && name.compare(0, scan_dir_->size(), *scan_dir_) == 0 &&
        name.find('/', scan_dir_->size()) == std::string::npos) {
        const std::string parent = scan_dir_->empty() ? std::string() : scan_dir_->substr(0, scan_dir_->size() - 1);
        return join(parent.empty() ? std::string(".") : parent);
    }
    return std::string(stat_anchor());
}

std::string_view SenderFileLists::stat_anchor() const
{
    // Upstream syscall.c:do_xstat_at: without a plain chroot (secure_relpath_active) the
    // parent directories of a stat()ed name may not leave the current directory.
    return opt_.flist.sanitize_paths ? std::string_view(pathnames_[cur_pathname_]) : std::string_view();
}

int SenderFileLists::link_stat(const std::string& name, struct stat& st, bool follow_dirlinks) const
{
    // Upstream flist.c:link_stat, with every lookup confined beneath the module.
    const std::string path = join(name);
    // Upstream x_stat / x_lstat: a "fake super" module's record says what the entry is.
    auto record = [&](StatXattrLookup found) {
        if (found.result == StatXattrLookup::Result::Corrupt)
            throw_corrupt_stat_xattr(full_fname(name), found.raw);
        if (found.result == StatXattrLookup::Result::Failed)
            s_.report.syserr(LogCode::ErrorXfer, found.err,
                             std::string("failed to read xattr ") + kStatXattrName + " for " + full_fname(name));
    };
    if (opt_.links.copy_links || force_copy_links_) {
        const int rc = s_.fs.stat_through_link(path, st, stat_anchor_for(name));
        if (rc == 0)
            record(s_.fs.lay_over_record(path, st, true));
        return rc;
    }
    // An entry of the directory being read is looked up through that directory's handle
    // (confined when it was opened): one syscall per name instead of reopening the parent.
    if (scan_fd_ >= 0 && scan_dir_ && name.size() > scan_dir_->size() &&
        name.compare(0, scan_dir_->size(), *scan_dir_) == 0 &&
        name.find('/', scan_dir_->size()) == std::string::npos) {
        const std::string leaf = name.substr(scan_dir_->size());
        if (::fstatat(scan_fd_, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return -1;
        record(s_.fs.lay_over_record_at(scan_fd_, leaf, st));
    } else if (s_.fs.stat(path, st, false) != 0) {
        return -1;
    } else {
        record(s_.fs.lay_over_record(path, st, false));
    }
    if (follow_dirlinks && S_ISLNK(st.st_mode)) {
        struct stat target{};
        if (s_.fs.stat_through_link(path, target, stat_anchor_for(name)) == 0) {
            record(s_.fs.lay_over_record(path, target, true));
            if (S_ISDIR(target.st_mode))
                st = target;
        }
    }
    return 0;
}

std::optional<SentFile> SenderFileLists::make_file(const std::string& fname, const struct stat* stp, Flags flags,
                                                   FilterLevel level)
{
    if (fname.size() >= kMaxPath) {
        s_.report.add_io_error(kIoErrorGeneral);
        s_.report.emit(LogCode::ErrorXfer, "skipping overly long name: " + fname + "\n");
        return std::nullopt;
    }
    const std::string thisname = clean_name(fname);
    struct stat st{};
    std::string linkname;
    if (stp && (S_ISDIR(stp->st_mode) || stp->st_mode == 0)) {
        st = *stp;
    } else {
        // Upstream readlink_stat.
        int rc = link_stat(thisname, st, opt_.links.copy_dirlinks);
        int err = errno;
        if (rc == 0 && S_ISLNK(st.st_mode)) {
            auto target = s_.fs.read_link(join(thisname));
            if (!target) {
                rc = -1;
                err = errno;
            } else {
                linkname = *target;
                if (opt_.links.copy_unsafe_links && unsafe_symlink(linkname, thisname)) {
                    rc = s_.fs.stat_through_link(join(thisname), st, stat_anchor());
                    err = errno;
                } else if (opt_.links.munge && linkname.size() > kSymlinkPrefix.size() &&
                           linkname.compare(0, kSymlinkPrefix.size(), kSymlinkPrefix) == 0) {
                    linkname.erase(0, kSymlinkPrefix.size());
                }
            }
        }
        if (rc != 0) {
            if (level != FilterLevel::None && (is_excluded(thisname, false, level) || is_excluded(thisname, true, level)))
                return std::nullopt;
            if (err == ENOENT) {
                struct stat lst{};
                if ((opt_.links.copy_links || opt_.links.copy_unsafe_links || opt_.links.copy_dirlinks) &&
                    s_.fs.stat(join(thisname), lst, false) == 0 && S_ISLNK(lst.st_mode)) {
                    s_.report.add_io_error(kIoErrorGeneral);
                    s_.report.emit(LogCode::ErrorXfer, "symlink has no referent: " + full_fname(thisname) + "\n");
                } else {
                    s_.report.add_io_error(kIoErrorVanished);
                    s_.report.emit(opt_.flist.protocol < 28 ? LogCode::Error : LogCode::Warning,
                                   "file has vanished: " + full_fname(thisname) + "\n");
                }
            } else {
                s_.report.add_io_error(kIoErrorGeneral);
                s_.report.syserr(LogCode::ErrorXfer, err, "readlink_stat(" + full_fname(thisname) + ") failed");
            }
            return std::nullopt;
        }
        if (st.st_mode == 0) {
            s_.report.add_io_error(kIoErrorGeneral);
            s_.report.emit(LogCode::Info, "skipping file with bogus (zero) st_mode: " + full_fname(thisname) + "\n");
            return std::nullopt;
        }
    }

    bool mount_dir = false;
    if (level != FilterLevel::None) {
        if (S_ISDIR(st.st_mode)) {
            if (!opt_.xfer_dirs && !force_xfer_dirs_) {
                s_.report.emit(LogCode::Info, "skipping directory " + thisname + "\n");
                return std::nullopt;
            }
            // -x keeps us out of other filesystems' directories (not top-level ones).
            if (opt_.one_file_system && st.st_dev != filesystem_dev_ && flags.content_dir && !flags.top_dir) {
                if (opt_.one_file_system > 1)
                    return std::nullopt;
                flags.content_dir = false;
                mount_dir = true;
            }
        } else {
            flags.content_dir = false;
        }
        if (is_excluded(thisname, S_ISDIR(st.st_mode), level))
            return std::nullopt;
        if (opt_.ignore_nonreadable && !S_ISLNK(st.st_mode)) {
            const std::string path = join(thisname);
            UniqueFd probe = S_ISDIR(st.st_mode) ? s_.fs.open_dir(path) : s_.fs.open_read(path);
            if (!probe && (errno == EACCES || errno == EPERM))
                return std::nullopt;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        flags.content_dir = false;
    }

    SentFile f;
    FileEntry& e = f.entry;
    e.name = thisname;
    const auto slash = thisname.rfind('/');
    if ((slash == std::string::npos ? thisname : thisname.substr(slash + 1)).empty())
        return std::nullopt; // upstream: an empty basename is not sent
    f.pathname = cur_pathname_;
    f.dev = st.st_dev;
    f.mount_dir = mount_dir;
    if (opt_.copy_devices && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
        // --copy-devices sends a device's contents as a regular file of "now".
        if (st.st_size == 0) {
            UniqueFd fd = s_.fs.open_read(join(thisname));
            if (fd) {
                const off_t end = ::lseek(fd.get(), 0, SEEK_END);
                st.st_size = end > 0 ? end : 0;
            }
        }
        st.st_mode = S_IFREG | (st.st_mode & 07777);
        st.st_mtime = ::time(nullptr);
    }
    // Upstream's file_struct keeps 16 bits of the mode (more can only come from a "fake
    // super" record).
    e.mode = st.st_mode & 0xFFFFu;
    e.size = (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) ? 0 : st.st_size;
    e.mtime = st.st_mtim.tv_sec;
    e.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec >= 0 && st.st_mtim.tv_nsec < 1000000000 ? st.st_mtim.tv_nsec : 0);
    e.atime = st.st_atim.tv_sec;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        e.rdev_major = major(st.st_rdev);
        e.rdev_minor = minor(st.st_rdev);
    }
    if (S_ISLNK(st.st_mode)) {
        // The length stays the link's own (upstream F_LENGTH is st_size) even when a
        // munged target is sent without its prefix.
        e.symlink_target = linkname;
    }
    if (opt_.flist.preserve_hard_links) {
        e.dev_ino = protocol::DevIno{static_cast<std::int64_t>(st.st_dev), static_cast<std::int64_t>(st.st_ino)};
        e.nlink = static_cast<std::uint32_t>(st.st_nlink);
    }
    e.top_dir = flags.top_dir;
    e.content_dir = S_ISDIR(st.st_mode) && flags.content_dir;
    e.implied_dir = flags.implied_dir;
    if (opt_.always_checksum && S_ISREG(st.st_mode)) {
        auto sum = s_.file_checksum(join(thisname));
        e.checksum = sum ? *sum : std::string(opt_.flist.checksum_len, '\0');
    }
    return f;
}

SentFile* SenderFileLists::send_file_name(const std::string& fname, const struct stat* stp, Flags flags,
                                          FilterLevel level)
{
    auto made = make_file(fname, stp, flags, level);
    if (!made)
        return nullptr;
    SentFile& f = *made;
    if (chmod_ && !protocol::is_symlink(f.entry.mode) && f.entry.mode)
        f.entry.mode = chmod_->tweak_mode(f.entry.mode);
    if (opt_.flist.preserve_links && protocol::is_symlink(f.entry.mode) && f.entry.symlink_target.empty()) {
        s_.report.add_io_error(kIoErrorGeneral);
        s_.report.emit(LogCode::ErrorXfer, "skipping symlink with 0-length value: " + full_fname(f.entry.name) + "\n");
        return nullptr;
    }
    try {
        encoder_.put_entry(out_, f.entry);
    } catch (const std::invalid_argument& e) {
        s_.report.add_io_error(kIoErrorGeneral);
        s_.report.emit(LogCode::ErrorXfer, std::string("skipping ") + full_fname(f.entry.name) + ": " + e.what() + "\n");
        return nullptr;
    }
    if (out_.size() >= kOutChunk)
        flush_out();
    building_->files.push_back(std::move(f));
    return &building_->files.back();
}

void SenderFileLists::send_directory(const std::string& dir, Flags flags)
{
    const std::size_t start = building_->files.size();
    UniqueFd fd = s_.fs.open_dir(join(dir));
    std::optional<std::vector<std::string>> names;
    if (fd)
        names = s_.fs.list_dir(fd.get());
    if (!names) {
        const int err = errno;
        if (err == ENOENT) {
            s_.report.add_io_error(kIoErrorVanished);
            s_.report.emit(LogCode::Warning, "directory has vanished: " + full_fname(dir) + "\n");
            return;
        }
        if (err == ENOTDIR && flags.perhaps_dir)
            return;
        s_.report.add_io_error(kIoErrorGeneral);
        s_.report.syserr(LogCode::ErrorXfer, err, "opendir " + full_fname(dir) + " failed");
        return;
    }
    const std::string prefix = dir == "." ? std::string() : (dir == "/" ? "/" : dir + "/");
    Flags child = flags;
    child.top_dir = false;
    // Upstream stats each entry through the open directory (scan_link_stat's scan_dirfd).
    scan_dir_ = prefix;
    scan_fd_ = fd.get();
    for (const std::string& name : *names) {
        if (prefix.size() + name.size() >= kMaxPath) {
            s_.report.add_io_error(kIoErrorGeneral);
            s_.report.emit(LogCode::ErrorXfer, "filename overflows max-path len by " +
                                                   std::to_string(prefix.size() + name.size() - kMaxPath + 1) + ": " +
                                                   dir + "/" + name + "\n");
            continue;
        }
        send_file_name(prefix + name, nullptr, child, FilterLevel::All);
    }
    scan_dir_.reset();
    scan_fd_ = -1;
    // Without incremental recursion, upstream descends right away, depth first, after
    // sending this directory's own entries.
    if (opt_.recurse && !flags.divert_dirs) {
        const std::size_t end = building_->files.size();
        for (std::size_t i = start; i < end; ++i)
            send_if_directory(i, child);
    }
}

void SenderFileLists::send_if_directory(std::size_t index, Flags flags)
{
    const SentFile& f = building_->files[index];
    if (!protocol::is_dir(f.entry.mode) || f.mount_dir || !f.entry.content_dir)
        return;
    std::string name = f.entry.name;
    s_.filters.push_dir(name);
    send_directory(name, flags);
    s_.filters.pop_dir();
}

void SenderFileLists::change_local_filter_dir(const std::string& dir, int depth)
{
    // Upstream exclude.c:change_local_filter_dir: one pushed directory per depth.
    while (static_cast<int>(filter_depths_.size()) > depth) {
        if (filter_depths_.back())
            s_.filters.pop_dir();
        filter_depths_.pop_back();
    }
    while (static_cast<int>(filter_depths_.size()) < depth)
        filter_depths_.push_back(false);
    s_.filters.push_dir(dir);
    filter_depths_.push_back(true);
}

void SenderFileLists::clear_local_filter_dirs()
{
    while (!filter_depths_.empty()) {
        if (filter_depths_.back())
            s_.filters.pop_dir();
        filter_depths_.pop_back();
    }
}

void SenderFileLists::send_implied_dirs(const std::string& fname, std::size_t start, std::size_t limit,
                                        Flags flags, NameType type)
{
    // Upstream flist.c:send_implied_dirs: the parents of a -R path, unfiltered, sent so
    // the receiver gets their attributes; with incremental recursion the rest of the path
    // waits in the last parent's "relnames" until its sub-list goes out.
    flags.implied_dir = true;
    flags.top_dir = false;
    flags.content_dir = false;
    const std::string head = fname.substr(0, limit);
    bool need_new = true;
    if (opt_.flist.inc_recurse) {
        need_new = !(lastpath_dir_ >= 0 && lastpath_pathname_ == cur_pathname_ && lastpath_ == head);
    } else {
        // Skip the leading directories we have in common with the last path.
        start = 0;
        std::size_t i = 0;
        int depth = 0;
        for (;; ++i) {
            if (i == head.size()) {
                if (i >= lastpath_.size() || lastpath_[i] == '/')
                    return;
                break;
            }
            if (i >= lastpath_.size() || lastpath_[i] != head[i])
                break;
            if (head[i] == '/') {
                start = i;
                ++depth;
            }
        }
        (void)depth;
    }
    if (need_new) {
        // Implied directories are not filtered by the client's rules (the module's still
        // apply), and are followed through symlinks (upstream sets copy_links, xfer_dirs).
        // Only the parents after @p start go out: for a name from a directory's relnames
        // the directory itself is already in the client's lists, and sending it again
        // inside its own sub-list makes a 3.1+ client abort ("invalid path from sender").
        // Upstream: flist.c:send1extra passes the start of the relative part.
        force_copy_links_ = force_xfer_dirs_ = true;
        for (std::size_t slash = head.find('/', start + 1); slash != std::string::npos;
             slash = head.find('/', slash + 1)) {
            send_file_name(head.substr(0, slash), nullptr, flags, FilterLevel::Server);
        }
        SentFile* last = send_file_name(head, nullptr, flags, FilterLevel::Server);
        force_copy_links_ = force_xfer_dirs_ = false;
        if (opt_.flist.inc_recurse) {
            lastpath_dir_ = last && protocol::is_dir(last->entry.mode)
                                ? static_cast<std::int32_t>(building_->files.size() - 1)
                                : -1;
            lastpath_pathname_ = cur_pathname_;
        }
        lastpath_ = head;
        if (!opt_.flist.inc_recurse)
            return;
    }
    if (lastpath_dir_ < 0)
        return; // the directory vanished
    pending_relnames_.emplace_back(lastpath_dir_, std::make_pair(type, fname.substr(limit + 1)));
}

std::optional<std::string> SenderFileLists::read_files_from_name()
{
    // Upstream io.c:read_line into a MAXPATHLEN buffer (longer names are cut, not refused).
    // From the client (--files-from=-) names end at NUL and an empty one ends the list;
    // from a file in the module, lines end at CR/LF (NUL with --from0), and empty lines
    // and "#"/";" comments are skipped (RL_DUMP_COMMENTS).
    const bool from_socket = !opt_.files_from_content;
    const bool nul_ends = from_socket || opt_.eol_nulls;
    for (;;) {
        std::string name;
        for (;;) {
            char c = 0;
            if (from_socket) {
                std::byte b{};
                s_.conn.read_exact(std::span<std::byte>(&b, 1));
                c = static_cast<char>(b);
            } else {
                if (files_from_pos_ >= opt_.files_from_content->size())
                    break;
                c = (*opt_.files_from_content)[files_from_pos_++];
            }
            if (nul_ends ? c == '\0' : (c == '\r' || c == '\n')) {
                if (!from_socket && name.empty())
                    continue;
                break;
            }
            if (name.size() < kMaxPath - 1)
                name.push_back(c);
        }
        if (!from_socket && !name.empty() && (name[0] == '#' || name[0] == ';'))
            continue;
        if (name.empty())
            return std::nullopt;
        return sanitize_files_from_name(name, opt_.relative_paths);
    }
}

std::string sanitize_files_from_name(std::string_view name, bool relative_paths)
{
    // Upstream util1.c:sanitize_path(fbuf, fbuf, "", 0, SP_KEEP_DOT_DIRS) as flist.c calls it:
    // slashes collapse and never lead, ".." climbs only what was copied, "." components go
    // unless -R keeps them, and an empty result is ".".
    const bool drop_dot_dirs = !relative_paths;
    std::string out;
    std::size_t start = 0;
    std::size_t p = 0;
    if (drop_dot_dirs)
        while (p + 1 < name.size() && name[p] == '.' && name[p + 1] == '/')
            p += 2;
    while (p < name.size()) {
        if (name[p] == '/') {
            ++p;
            continue;
        }
        const bool single_dot = name[p] == '.' && (p + 1 >= name.size() || name[p + 1] == '/');
        if (drop_dot_dirs && single_dot) {
            ++p;
            continue;
        }
        if (name[p] == '.' && p + 1 < name.size() && name[p + 1] == '.' && (p + 2 >= name.size() || name[p + 2] == '/')) {
            p += 2;
            if (out.size() > start) {
                out.pop_back(); // the slash that ended the previous component
                while (out.size() > start && out.back() != '/')
                    out.pop_back();
            }
            continue;
        }
        while (p < name.size()) {
            const char c = name[p++];
            out.push_back(c);
            if (c == '/')
                break;
        }
    }
    if (out.empty())
        out = ".";
    return out;
}

void SenderFileLists::process_argument(std::string fbuf, Flags flags, bool& implied_dot_pending)
{
    // Upstream send_file_list's loop body: split the argument into the directory the
    // names are relative to and the name itself, classify it, stat it and send it.
    NameType type = NameType::Normal;
    std::string dir;
    bool has_dir = false;
    std::string fn;
    if (!opt_.relative_paths) {
        const std::size_t len = fbuf.size();
        if (len == 0 || fbuf.back() == '/') {
            if (len == 2 && fbuf[0] == '.')
                fbuf = ".";
            else
                fbuf += '.';
            type = NameType::DotDir;
        } else if (len > 1 && fbuf[len - 1] == '.' && fbuf[len - 2] == '.' && (len == 2 || fbuf[len - 3] == '/')) {
            fbuf += "/.";
            type = NameType::DotDir;
        } else if (fbuf.back() == '.' && (len == 1 || fbuf[len - 2] == '/')) {
            type = NameType::DotDir;
        }
        const auto p = fbuf.rfind('/');
        if (p != std::string::npos) {
            dir = p == 0 ? "/" : fbuf.substr(0, p);
            has_dir = true;
            fn = fbuf.substr(p + 1);
        } else {
            fn = fbuf;
        }
    } else {
        std::size_t split = fbuf.find("/./");
        if (split != std::string::npos) {
            dir = split == 0 ? "/" : clean_name(fbuf.substr(0, split));
            has_dir = true;
            std::size_t f = split + 3;
            while (f < fbuf.size() && fbuf[f] == '/')
                ++f;
            fn = fbuf.substr(f);
        } else {
            fn = fbuf;
        }
        if (fn.size() > 1 && fn[0] == '.' && fn[1] == '/' && fn.size() > 2 && !implied_dot_pending)
            implied_dot_pending = true;
        // clean_fname(CFN_KEEP_TRAILING_SLASH | CFN_DROP_TRAILING_DOT_DIR)
        const bool trailing_slash = !fn.empty() && fn.back() == '/';
        std::string cleaned = clean_name(fn);
        if (trailing_slash && cleaned != "." && cleaned != "/")
            cleaned += '/';
        fn = cleaned;
        if (fn.size() == 1) {
            if (fn == "/") {
                fn = "/.";
                type = NameType::DotDir;
            } else if (fn == ".") {
                type = NameType::DotDir;
            }
        } else if (fn.back() == '/') {
            fn.pop_back();
            type = (fn == ".") ? NameType::DotDir : NameType::Slash;
        }
        // Reject a ".." dir in the active part of the path.
        for (std::size_t p = fn.find(".."); p != std::string::npos; p = fn.find("..", p + 2)) {
            if ((p + 2 == fn.size() || fn[p + 2] == '/') && (p == 0 || fn[p - 1] == '/')) {
                s_.report.emit(LogCode::Error, "found \"..\" dir in relative path: " + fn + "\n");
                throw ProtocolError(ExitCode::Syntax, "");
            }
        }
    }
    if (fn.empty()) {
        fn = ".";
        type = NameType::DotDir;
    }
    // Names are module-relative: an absolute directory means the module root.
    std::string rel = has_dir ? relative_to_root(dir) : std::string();
    if (rel == ".")
        rel.clear();
    if (!base_dir_.empty())
        rel = rel.empty() ? base_dir_ : base_dir_ + "/" + rel;
    if (has_dir) {
        // Upstream change_pathname(NULL, dir, -dirlen): the directory must exist and must
        // not be hidden by the module's filter; otherwise the argument is skipped.
        // Upstream first returns to the starting directory (orig_dir), and stays there
        // when the change fails.
        cur_pathname_ = intern_pathname(base_dir_);
        s_.filters.set_transfer_root("");
        int err = 0;
        if (s_.filters.daemon_excludes_path(rel, true))
            err = ENOENT;
        else if (!s_.fs.open_dir(rel))
            err = errno;
        if (err != 0) {
            s_.report.add_io_error(kIoErrorGeneral);
            s_.report.syserr(LogCode::ErrorXfer, err, "change_dir " + full_fname(dir) + " failed");
            s_.filters.set_transfer_root(base_dir_);
            implied_dot_pending = false;
            return;
        }
    }
    change_pathname(rel);
    if (implied_dot_pending && !implied_dot_sent_) {
        implied_dot_sent_ = true;
        Flags dot = flags;
        dot.implied_dir = true;
        dot.content_dir = false;
        send_file_name(".", nullptr, dot, FilterLevel::All);
    }

    struct stat st{};
    bool missing = false;
    const bool follow = opt_.links.copy_dirlinks || type != NameType::Normal;
    const bool stat_failed = link_stat(fn, st, follow) != 0;
    const int err = errno;
    if (stat_failed || (type != NameType::DotDir && is_excluded(fn, S_ISDIR(st.st_mode), FilterLevel::Server)) ||
        (opt_.relative_paths && s_.filters.daemon_excludes_path(fn, false))) {
        const int e = stat_failed ? err : ENOENT;
        if (e != ENOENT || opt_.missing_args == 0) {
            if (e != ENOENT)
                s_.report.add_io_error(kIoErrorGeneral);
            s_.report.syserr(LogCode::ErrorXfer, e, "link_stat " + full_fname(fn) + " failed");
            return;
        }
        if (opt_.missing_args == 1)
            return;
        st = {};
        missing = true;
    }
    if (type != NameType::DotDir && st.st_mode != 0 && is_excluded(fn, S_ISDIR(st.st_mode), FilterLevel::All))
        return;
    if (S_ISDIR(st.st_mode) && !opt_.xfer_dirs) {
        s_.report.emit(LogCode::Info, "skipping directory " + fn + "\n");
        return;
    }
    if (opt_.flist.inc_recurse && opt_.relative_paths && !fn.empty()) {
        const std::size_t p = fn.find('/', 1);
        if (p != std::string::npos) {
            std::size_t limit = p;
            bool dot_first = p == 1 && fn[0] == '.';
            std::size_t next = std::string::npos;
            if (dot_first) {
                next = fn.find('/', p + 1);
                if (next != std::string::npos)
                    limit = next;
            }
            send_implied_dirs(fn, 0, limit, flags, missing ? NameType::Missing : type);
            if (!dot_first || next != std::string::npos)
                return;
        }
    } else if (opt_.implied_dirs && opt_.relative_paths) {
        const auto p = fn.rfind('/');
        if (p != std::string::npos && p != 0)
            send_implied_dirs(fn, 0, p, flags, NameType::Normal);
    }
    if (opt_.one_file_system)
        filesystem_dev_ = st.st_dev;
    if (opt_.recurse || (opt_.xfer_dirs && type != NameType::Normal)) {
        Flags top = flags;
        top.top_dir = true;
        top.content_dir = true;
        SentFile* f = send_file_name(fn, &st, top, FilterLevel::None);
        if (!f)
            return;
        const std::size_t index = building_->files.size() - 1;
        if (opt_.flist.inc_recurse) {
            if (type == NameType::DotDir) {
                if (send_dir_depth_ < 0) {
                    send_dir_depth_ = 0;
                    change_local_filter_dir(fn, 0);
                }
                send_directory(fn, flags);
            }
        } else {
            send_if_directory(index, flags);
        }
    } else {
        send_file_name(fn, missing ? &st : nullptr, flags, FilterLevel::None);
    }
}

std::int32_t SenderFileLists::send_first_list()
{
    const std::int64_t start = now_ms();
    s_.report.emit(LogCode::Log, "building file list\n");
    building_ = FileList{};
    building_->start = encoder_.begin_list();
    Flags flags;
    flags.content_dir = opt_.recurse;
    flags.divert_dirs = opt_.flist.inc_recurse;
    bool implied_dot_pending = false;
    if (opt_.files_from_socket || opt_.files_from_content) {
        // The names are relative to the first path argument (upstream chdirs there).
        if (!opt_.paths.empty()) {
            std::string base = relative_to_root(opt_.paths.front());
            base_dir_ = base == "." ? std::string() : base;
            if (!s_.fs.open_dir(base_dir_)) {
                s_.report.syserr(LogCode::ErrorXfer, errno, "change_dir " + full_fname(opt_.paths.front()) + " failed");
                throw ProtocolError(ExitCode::FileSelect, "", protocol::UpstreamSite{"flist.c", 2551});
            }
        }
        // Before protocol 31 the client sends the names outside the multiplexed stream.
        const bool raw = opt_.files_from_socket && opt_.flist.protocol < 31;
        if (raw)
            s_.conn.stop_mux_in();
        while (auto name = read_files_from_name())
            process_argument(*name, flags, implied_dot_pending);
        if (raw && opt_.flist.protocol >= 30)
            s_.conn.start_mux_in();
    } else {
        for (const std::string& arg : opt_.paths)
            process_argument(arg, flags, implied_dot_pending);
    }
    build_ms_ = std::max<std::int64_t>(now_ms() - start, 1);
    const std::int64_t xfer_start = now_ms();
    finish_list(true);
    xfer_ms_ = now_ms() - xfer_start;
    const std::int32_t count = static_cast<std::int32_t>(lists_.back().files.size());
    if (opt_.flist.inc_recurse) {
        send_dir_depth_ = 1;
        if (send_dir_ndx_ < 0) {
            std::string out;
            s_.ndx_out.put(out, protocol::kNdxFlistEof);
            s_.conn.write(out);
            eof_ = true;
        } else if (file_total_ == 1) {
            // One entry so far: send one more list so the client can tell a single-file
            // transfer from a directory.
            send_extra_lists(1);
        }
    } else {
        eof_ = true;
    }
    return count;
}

void SenderFileLists::finish_list(bool first)
{
    FileList& list = *building_;
    const int io_error = s_.report.io_error();
    const int list_error = first ? io_error : (io_error & ~io_error_at_list_start_) ;
    const bool send_error = list_error != 0 && !opt_.ignore_errors;
    const bool carried = encoder_.end_list(out_, send_error ? io_error : 0);
    if (first && !opt_.flist.inc_recurse)
        encoder_.put_first_list_trailer(out_, opt_.ignore_errors ? 0 : io_error);
    flush_out();
    if (first && send_error && !carried && opt_.flist.protocol >= 30) {
        // A 3.0.0-3.0.6 client has no safe file-list trailer: upstream sends the bits apart
        // (flist.c:send_file_list); a sub-list's go out once its batch is done (below).
        // Upstream's send_msg puts it ahead of list data not yet flushed, so the client
        // meets it while still reading the first list, before it forks its generator, whose
        // --delete then says "IO error encountered -- skipping file deletion". Queued
        // behind the list (and the id lists) it reaches the generator after it deleted.
        send_io_error_message(io_error, true);
    }
    // Sort as the client will, so that indexes agree.
    std::vector<FileEntry> entries;
    entries.reserve(list.files.size());
    for (auto& f : list.files)
        entries.push_back(std::move(f.entry));
    const protocol::SortResult sorted =
        protocol::sort_file_list(entries, opt_.flist.protocol, protocol::FlistSide::Sender, opt_.flist.inc_recurse, false);
    std::vector<SentFile> files(list.files.size());
    std::vector<std::int32_t> new_index(list.files.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::size_t from = sorted.order[i];
        files[i] = std::move(list.files[from]);
        files[i].entry = std::move(entries[i]);
        new_index[from] = static_cast<std::int32_t>(i);
    }
    list.files = std::move(files);
    file_total_ += static_cast<std::int64_t>(list.files.size());
    if (opt_.flist.inc_recurse) {
        // Relative-path names waiting in implied directories move to their tree nodes.
        for (auto& [index, rel] : pending_relnames_)
            relnames_by_sorted_[new_index[static_cast<std::size_t>(index)]].push_back(std::move(rel));
        pending_relnames_.clear();
        add_dirs_to_tree(first ? -1 : list.parent_dir, list);
        relnames_by_sorted_.clear();
    }
    lists_.push_back(std::move(list));
    building_.reset();
    lastpath_dir_ = -1;
}

void SenderFileLists::add_dirs_to_tree(std::int32_t parent, FileList& list)
{
    // Upstream add_dirs_to_tree: every directory of the (sorted) list joins the directory
    // list in order; all but "." are linked as children of @p parent.
    std::int32_t prev = -1;
    for (std::size_t i = 0; i < list.files.size(); ++i) {
        const SentFile& f = list.files[i];
        if (!protocol::is_dir(f.entry.mode))
            continue;
        DirNode node;
        node.dir = f;
        if (auto it = relnames_by_sorted_.find(static_cast<std::int32_t>(i)); it != relnames_by_sorted_.end())
            node.relnames = std::move(it->second);
        dirs_.push_back(std::move(node));
        const auto me = static_cast<std::int32_t>(dirs_.size() - 1);
        const std::string& name = f.entry.name;
        const auto slash = name.rfind('/');
        if ((slash == std::string::npos ? name : name.substr(slash + 1)) == ".")
            continue;
        if (prev >= 0)
            dirs_[static_cast<std::size_t>(prev)].next_sibling = me;
        else if (parent >= 0)
            dirs_[static_cast<std::size_t>(parent)].first_child = me;
        else
            send_dir_ndx_ = me;
        dirs_[static_cast<std::size_t>(me)].parent = parent;
        prev = me;
    }
}

void SenderFileLists::send1extra(std::int32_t dir_ndx)
{
    DirNode& node = dirs_[static_cast<std::size_t>(dir_ndx)];
    const std::string dirname = node.dir.entry.name;
    cur_pathname_ = node.dir.pathname;
    s_.filters.set_transfer_root(pathnames_[cur_pathname_]);
    change_local_filter_dir(dirname, send_dir_depth_);
    Flags flags;
    flags.divert_dirs = true;
    flags.content_dir = true;
    if (node.dir.entry.content_dir) {
        if (opt_.one_file_system) {
            struct stat st{};
            if (link_stat(dirname, st, opt_.links.copy_dirlinks) != 0) {
                s_.report.add_io_error(errno == ENOENT ? kIoErrorVanished : kIoErrorGeneral);
                if (errno == ENOENT)
                    s_.report.emit(LogCode::Warning, "directory has vanished: " + full_fname(dirname) + "\n");
                else
                    s_.report.syserr(LogCode::ErrorXfer, errno, "link_stat " + full_fname(dirname) + " failed");
                return;
            }
            filesystem_dev_ = st.st_dev;
        }
        send_directory(dirname, flags);
    }
    if (!opt_.relative_paths)
        return;
    auto relnames = std::move(dirs_[static_cast<std::size_t>(dir_ndx)].relnames);
    for (auto& [type, rel] : relnames) {
        const std::string full = dirname + "/" + rel;
        const auto slash = full.find('/', dirname.size() + 1);
        if (slash != std::string::npos) {
            send_implied_dirs(full, dirname.size() + 1, slash, flags, type);
            continue;
        }
        Flags top = flags;
        top.top_dir = true;
        if (type != NameType::Normal) {
            struct stat st{};
            if (type != NameType::Missing && link_stat(full, st, true) != 0) {
                s_.report.add_io_error(errno == ENOENT ? kIoErrorVanished : kIoErrorGeneral);
                s_.report.emit(LogCode::Warning, "directory has vanished: " + full_fname(full) + "\n");
                continue;
            }
            send_file_name(full, &st, top, FilterLevel::All);
        } else {
            send_file_name(full, nullptr, top, FilterLevel::All);
        }
    }
}

void SenderFileLists::send_extra_lists(int at_least)
{
    if (eof_)
        return;
    if (at_least < 0)
        at_least = static_cast<int>(file_total_ - file_old_total_ + 1);
    // Upstream save_io_error: once per batch, so every list after a failure in this batch
    // carries the error too.
    io_error_at_list_start_ = s_.report.io_error();
    // The batch's bytes stay in out_ until it is done, and messages said meanwhile (a
    // directory that cannot be read, the batch's io_error) go ahead of output not yet
    // committed, as upstream's send_msg does: ahead of the batch, and ahead of a first
    // list still waiting in the connection's buffer (upstream's send_files builds its
    // first batch before its first flush).
    struct HoldOut {
        bool& flag;
        Connection& conn;
        bool was_ahead;
        HoldOut(bool& f, Connection& c) : flag(f), conn(c), was_ahead(c.messages_ahead())
        {
            flag = true;
            conn.set_messages_ahead(true);
        }
        ~HoldOut()
        {
            flag = false;
            conn.set_messages_ahead(was_ahead);
        }
        HoldOut(const HoldOut&) = delete;
        HoldOut& operator=(const HoldOut&) = delete;
    };
    std::optional<HoldOut> hold(std::in_place, hold_out_, s_.conn);
    while (file_total_ - file_old_total_ < at_least) {
        const std::int32_t dir_ndx = send_dir_ndx_;
        s_.ndx_out.put(out_, protocol::flist_header_ndx(dir_ndx));
        building_ = FileList{};
        building_->start = encoder_.begin_list();
        building_->parent_dir = dir_ndx;
        send1extra(dir_ndx);
        // Duplicate directory names that follow go into the same list.
        std::int32_t cur = dir_ndx;
        std::int32_t next;
        while ((next = dirs_[static_cast<std::size_t>(cur)].next_sibling) >= 0 &&
               dirs_[static_cast<std::size_t>(next)].dir.entry.duplicate) {
            send_dir_ndx_ = next;
            send1extra(next);
            cur = next;
        }
        building_->parent_dir = send_dir_ndx_;
        finish_list(false);
        // Walk the tree depth first: children, then siblings, then back up.
        const DirNode& node = dirs_[static_cast<std::size_t>(send_dir_ndx_)];
        if (node.first_child >= 0) {
            send_dir_ndx_ = node.first_child;
            ++send_dir_depth_;
        } else {
            std::int32_t n = send_dir_ndx_;
            while (dirs_[static_cast<std::size_t>(n)].next_sibling < 0) {
                const std::int32_t up = dirs_[static_cast<std::size_t>(n)].parent;
                if (up < 0) {
                    s_.ndx_out.put(out_, protocol::kNdxFlistEof);
                    eof_ = true;
                    clear_local_filter_dirs();
                    goto finish;
                }
                --send_dir_depth_;
                n = up;
            }
            send_dir_ndx_ = dirs_[static_cast<std::size_t>(n)].next_sibling;
        }
    }
finish:
    // Upstream flist.c:send_extra_file_list tells a protocol-30 client apart too, safe
    // trailer or not, when anything in this batch of lists failed. Its send_msg goes ahead
    // of the batch's unflushed lists, so a 3.0.x client's generator knows of the error
    // before it reaches the failed directory's list, and skips deleting there ("IO error
    // encountered -- skipping file deletion") instead of emptying it. Ahead of the held
    // batch, never inside one of its lists: that client's receiver hands sub-lists on to
    // its generator as raw bytes, with a message met inside one passed on inside it.
    if (s_.report.io_error() != io_error_at_list_start_ && opt_.flist.protocol == 30 && !opt_.ignore_errors)
        send_io_error_message(s_.report.io_error(), true);
    hold.reset();
    flush_out();
}

void SenderFileLists::send_io_error_message(int io_error, bool ahead)
{
    std::string payload;
    for (int i = 0; i < 4; ++i)
        payload.push_back(static_cast<char>((io_error >> (8 * i)) & 0xFF));
    if (ahead)
        s_.conn.send_message_ahead(protocol::MsgCode::IoError, payload);
    else
        s_.conn.send_message(protocol::MsgCode::IoError, payload);
}

SentFile* SenderFileLists::find(std::int32_t ndx)
{
    for (FileList& list : lists_) {
        const std::int64_t i = static_cast<std::int64_t>(ndx) - list.start;
        if (i >= 0 && i < static_cast<std::int64_t>(list.files.size()))
            return &list.files[static_cast<std::size_t>(i)];
        if (i != -1)
            continue;
        // The first list's "parent" is the first directory sent (its "." entry): upstream
        // leaves that list's parent_ndx at 0 on the sending side.
        const std::int32_t parent = list.parent_dir >= 0 ? list.parent_dir : (opt_.flist.inc_recurse ? 0 : -1);
        if (parent >= 0 && parent < static_cast<std::int32_t>(dirs_.size()))
            return &dirs_[static_cast<std::size_t>(parent)].dir;
    }
    return nullptr;
}

bool SenderFileLists::valid(std::int32_t ndx) const
{
    for (const FileList& list : lists_) {
        const std::int64_t i = static_cast<std::int64_t>(ndx) - list.start;
        if (i >= -1 && i < static_cast<std::int64_t>(list.files.size()))
            return true;
    }
    return false;
}

bool SenderFileLists::retire_oldest()
{
    if (lists_.empty())
        return false;
    file_old_total_ += static_cast<std::int64_t>(lists_.front().files.size());
    lists_.pop_front();
    return true;
}

} // namespace ocr::transfer
