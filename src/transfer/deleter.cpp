// SPDX-License-Identifier: MIT
// Deletion on a push's receiving side, as upstream delete.c and generator.c's delete_in_dir do it.
#include "transfer/deleter.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace ocr::transfer {
namespace {

// Deeper than this a directory is left alone (a bound on recursion, not an upstream rule).
constexpr int kMaxDepth = 256;

// Upstream flist.c:f_name_cmp for two entries of one directory: from protocol 29 the
// non-directories sort before the directories, and a directory compares as "name/".
bool dir_order_less(const std::string& an, bool adir, const std::string& bn, bool bdir, int protocol)
{
    if (protocol >= 29) {
        if (adir != bdir)
            return bdir;
        if (adir) {
            const std::string a = an + '/';
            const std::string b = bn + '/';
            return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                                [](char x, char y) {
                                                    return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
                                                });
        }
    }
    return std::lexicographical_compare(an.begin(), an.end(), bn.begin(), bn.end(), [](char x, char y) {
        return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
    });
}

} // namespace

unsigned del_for_flag(std::uint32_t mode) noexcept
{
    // Upstream: delete.c:get_del_for_flag.
    if (S_ISREG(mode))
        return del_flag::kForFile;
    if (S_ISDIR(mode))
        return del_flag::kForDir;
    if (S_ISLNK(mode))
        return del_flag::kForSymlink;
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return del_flag::kForDevice;
    return del_flag::kForSpecial;
}

void ListNames::add(const std::vector<protocol::FileEntry>& entries)
{
    for (const protocol::FileEntry& e : entries)
        if (e.active)
            names_.insert(std::string_view(e.name));
}

Deleter::Deleter(const ModuleWriter& writer, DeleterSettings settings, Hooks hooks, BackupMaker* backup)
    : w_(writer), s_(std::move(settings)), h_(std::move(hooks)), backup_(backup)
{
}

std::string Deleter::local(std::string_view name) const
{
    if (name.empty() || name == ".")
        return s_.base;
    if (s_.base.empty())
        return std::string(name);
    return s_.base + "/" + std::string(name);
}

std::string Deleter::child(const std::string& dir, const std::string& base) const
{
    return dir.empty() || dir == "." ? base : dir + "/" + base;
}

void Deleter::say(LogCode code, std::string text) const
{
    if (h_.message)
        h_.message(code, std::move(text));
}

void Deleter::sys(LogCode code, int err, std::string text) const
{
    if (h_.syserr)
        h_.syserr(code, err, std::move(text));
}

std::string Deleter::full(std::string_view name) const
{
    return h_.full_fname ? h_.full_fname(name) : "\"" + std::string(name) + "\"";
}

bool Deleter::no_uid_write(const struct stat& st) const noexcept
{
    // Upstream FLAG_OWNED_BY_US without S_IWUSR: give ourselves write access before deleting.
    return !(st.st_mode & S_IWUSR) && !s_.am_root && st.st_uid == ::geteuid();
}

bool Deleter::list_dir(const std::string& dir, std::vector<Listed>& out, bool ignore_perishable, int& kept)
{
    // Upstream get_dirlist -> send_directory -> make_file, with ALL_FILTERS: what the
    // filters exclude is not listed (so not deleted); a non-perishable exclusion keeps the
    // directory from being empty.
    Errno err = 0;
    UniqueFd fd = w_.open_dir(local(dir), err);
    DIR* d = nullptr;
    if (fd) {
        const int dup = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0);
        if (dup >= 0) {
            d = ::fdopendir(dup);
            if (d == nullptr) {
                err = errno;
                ::close(dup);
            }
        } else {
            err = errno;
        }
    }
    if (d == nullptr) {
        if (err == ENOENT)
            return false;
        if (h_.add_io_error)
            h_.add_io_error(kIoErrorGeneral);
        sys(LogCode::ErrorXfer, err == EBADF ? EACCES : err, "opendir " + full(dir) + " failed");
        return false;
    }
    for (;;) {
        errno = 0;
        const dirent* de = ::readdir(d);
        if (de == nullptr)
            break;
        const char* n = de->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
            continue;
        Listed item{n, {}};
        if (::fstatat(fd.get(), n, &item.st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; // vanished since readdir
        if (h_.excluded && h_.excluded(child(dir, item.name), S_ISDIR(item.st.st_mode), ignore_perishable)) {
            if (ignore_perishable)
                ++kept;
            continue;
        }
        if (out.size() >= s_.max_dir_entries) {
            ++kept;
            continue;
        }
        out.push_back(std::move(item));
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(), [this](const Listed& a, const Listed& b) {
        return dir_order_less(a.name, S_ISDIR(a.st.st_mode), b.name, S_ISDIR(b.st.st_mode), s_.protocol);
    });
    return true;
}

DelResult Deleter::delete_dir_contents(const std::string& dir, unsigned flags, int depth)
{
    // Upstream: delete.c:delete_dir_contents.
    std::vector<Listed> entries;
    int kept = 0;
    DelResult ret = DelResult::Success;
    if (depth > kMaxDepth) {
        ret = DelResult::NotEmpty;
    } else {
        (void)list_dir(dir, entries, true, kept);
        ret = kept ? DelResult::NotEmpty : DelResult::Success;
        if (!entries.empty()) {
            if (!(flags & del_flag::kRecurse)) {
                ret = DelResult::NotEmpty;
            } else {
                // Our own recursion: the items below are emptied here, not by delete_item.
                const unsigned child_flags =
                    (flags & ~(del_flag::kRecurse | del_flag::kMakeRoom | del_flag::kNoUidWrite)) | del_flag::kDirIsEmpty;
                for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
                    const std::string name = child(dir, it->name);
                    if (no_uid_write(it->st) && !s_.dry_run)
                        (void)w_.chmod(local(name), (it->st.st_mode & 07777) | S_IWUSR);
                    if (S_ISDIR(it->st.st_mode) &&
                        delete_dir_contents(name, child_flags | del_flag::kRecurse, depth + 1) != DelResult::Success)
                        ret = DelResult::NotEmpty;
                    if (delete_item(name, it->st.st_mode, child_flags) != DelResult::Success)
                        ret = DelResult::NotEmpty;
                }
            }
        }
    }
    if (ret == DelResult::NotEmpty)
        say(LogCode::Info, "cannot delete non-empty directory: " + dir + "\n");
    return ret;
}

DelResult Deleter::delete_item(const std::string& name, std::uint32_t mode, unsigned flags)
{
    // Upstream: delete.c:delete_item.
    const std::string rel = local(name);
    DelResult ret = DelResult::Success;
    if ((flags & del_flag::kNoUidWrite) && !s_.dry_run)
        (void)w_.chmod(rel, (mode & 07777) | S_IWUSR);

    bool checked = false;
    if (S_ISDIR(mode) && !(flags & del_flag::kDirIsEmpty)) {
        ret = delete_dir_contents(name, flags, 0);
        checked = ret == DelResult::NotEmpty || ret == DelResult::AtLimit;
    }
    if (!checked) {
        if (!(flags & del_flag::kMakeRoom) && s_.max_delete >= 0 && stats_.files >= s_.max_delete) {
            ++skipped_;
            return DelResult::AtLimit;
        }
        const char* what = "unlink";
        Errno err = 0;
        if (S_ISDIR(mode)) {
            what = "rmdir";
            err = s_.dry_run ? 0 : w_.rmdir(rel);
        } else if (backup_ && !(flags & del_flag::kForBackup) && (backup_->has_dir() || !backup_->is_backup_file(name))) {
            what = "make_backup";
            errno = 0;
            const BackupResult b = backup_->make_backup(name, true);
            err = b == BackupResult::Failed ? (errno ? errno : EIO) : 0;
            if (b == BackupResult::Duplicated) {
                what = "unlink";
                err = s_.dry_run ? 0 : w_.unlink(rel);
            }
        } else {
            err = s_.dry_run ? 0 : w_.unlink(rel);
        }
        if (err == 0) {
            if (!(flags & del_flag::kMakeRoom)) {
                if (h_.deleted)
                    h_.deleted(name, mode);
                ++stats_.files;
                if (S_ISDIR(mode))
                    ++stats_.dirs;
                else if (S_ISLNK(mode))
                    ++stats_.symlinks;
                else if (S_ISCHR(mode) || S_ISBLK(mode))
                    ++stats_.devices;
                else if (!S_ISREG(mode))
                    ++stats_.specials;
            }
            ret = DelResult::Success;
        } else if (S_ISDIR(mode) && (err == ENOTEMPTY || err == EEXIST)) {
            say(LogCode::Info, "cannot delete non-empty directory: " + name + "\n");
            ret = DelResult::NotEmpty;
        } else if (err != ENOENT) {
            sys(LogCode::ErrorXfer, err, std::string("delete_file: ") + what + "(" + name + ") failed");
            ret = DelResult::Failure;
        } else {
            ret = DelResult::Success;
        }
    }
    if (ret != DelResult::Success && (flags & del_flag::kMakeRoom)) {
        const char* desc = "special file";
        if (flags & del_flag::kForFile)
            desc = "regular file";
        else if (flags & del_flag::kForDir)
            desc = "directory";
        else if (flags & del_flag::kForSymlink)
            desc = "symlink";
        else if (flags & del_flag::kForDevice)
            desc = "device file";
        say(LogCode::ErrorXfer, std::string("could not make way for ") +
                                    ((flags & del_flag::kForBackup) ? "backup" : "new") + " " + desc + ": " + name +
                                    "\n");
    }
    return ret;
}

bool Deleter::make_room(const std::string& name, const struct stat& st, std::uint32_t new_mode, bool recurse)
{
    unsigned flags = del_for_flag(new_mode) | (recurse ? del_flag::kRecurse : 0u);
    if (no_uid_write(st))
        flags |= del_flag::kNoUidWrite;
    return delete_item(name, st.st_mode, flags) == DelResult::Success;
}

bool Deleter::remember(std::uint32_t mode, const std::string& name, unsigned flags)
{
    // Upstream: generator.c:remember_delete, with memory instead of a temp file; past the
    // bound, the fallback upstream takes when that file cannot be made.
    delayed_bytes_ += name.size() + sizeof(Delayed);
    if (delayed_bytes_ > s_.max_delay_bytes) {
        say(LogCode::Info, std::string("NOTE: Unable to create delete-delay temp file") +
                               (s_.inc_recurse ? "" : " -- switching to --delete-after") + ".\n");
        s_.timing.during = 0;
        s_.timing.after = !s_.inc_recurse;
        delayed_.clear();
        delayed_.shrink_to_fit();
        delayed_bytes_ = 0;
        return false;
    }
    delayed_.push_back(Delayed{mode, flags & del_flag::kNoUidWrite, name});
    return true;
}

void Deleter::delete_in_dir(const std::string& dir, const ListNames& wanted)
{
    // Upstream: generator.c:delete_in_dir.
    if (h_.keepalive)
        h_.keepalive();
    if ((h_.io_error ? h_.io_error() : 0) & kIoErrorGeneral) {
        if (!s_.ignore_errors) {
            if (!warned_io_error_)
                say(LogCode::Info, "IO error encountered -- skipping file deletion\n");
            warned_io_error_ = true;
            return;
        }
    }
    std::vector<Listed> entries;
    int kept = 0;
    if (!list_dir(dir, entries, false, kept))
        return;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        const std::string name = child(dir, it->name);
        // Matched regardless of type: a replacement of another type makes its own room.
        if (wanted.contains(name))
            continue;
        unsigned flags = del_flag::kRecurse;
        if (no_uid_write(it->st))
            flags |= del_flag::kNoUidWrite;
        if (s_.timing.during == 2) {
            if (!remember(it->st.st_mode, name, flags))
                break;
        } else {
            (void)delete_item(name, it->st.st_mode, flags);
        }
    }
}

void Deleter::delete_pass(const std::vector<protocol::FileEntry>& sorted, const ListNames& wanted)
{
    // Upstream: generator.c:do_delete_pass (the caller skips it for a missing destination).
    for (const protocol::FileEntry& e : sorted) {
        if (!e.active || !e.content_dir || !protocol::is_dir(e.mode))
            continue;
        struct stat st{};
        if (w_.lstat(local(e.name), st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        delete_in_dir(e.name, wanted);
    }
}

void Deleter::delayed_deletions()
{
    // Upstream: generator.c:do_delayed_deletions.
    std::vector<Delayed> todo;
    todo.swap(delayed_);
    delayed_bytes_ = 0;
    for (const Delayed& d : todo)
        (void)delete_item(d.name, d.mode, d.flags | del_flag::kRecurse);
}

void Deleter::report_limit()
{
    // Upstream: the end of generator.c:generate_files.
    if (s_.max_delete >= 0 && skipped_ > 0) {
        say(LogCode::Warning,
            "Deletions stopped due to --max-delete limit (" + std::to_string(skipped_) + " skipped)\n");
        if (h_.add_io_error)
            h_.add_io_error(kIoErrorDelLimit);
    }
}

} // namespace ocr::transfer
