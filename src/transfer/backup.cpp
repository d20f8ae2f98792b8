// SPDX-License-Identifier: MIT
// Backups of replaced and deleted entries, as upstream backup.c makes them, via the ModuleWriter.
#include "transfer/backup.hpp"

#include "transfer/sender_flist.hpp"
#include "transfer/stat_xattr.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

namespace ocr::transfer {
namespace {

// Splits "a/b/c" into its directory components "a", "a/b" (the leaf is not included).
std::vector<std::string> parent_prefixes(std::string_view name)
{
    std::vector<std::string> out;
    for (std::size_t pos = name.find('/'); pos != std::string_view::npos; pos = name.find('/', pos + 1))
        if (pos > 0)
            out.emplace_back(name.substr(0, pos));
    return out;
}

std::string join_rel(std::string_view dir, std::string_view name)
{
    if (dir.empty())
        return std::string(name);
    if (name.empty() || name == ".")
        return std::string(dir);
    std::string out(dir);
    out += '/';
    out += name;
    return out;
}

AttrTarget target_from(const struct stat& st, const AttrSettings& attrs, int protocol)
{
    AttrTarget t;
    t.mode = st.st_mode;
    t.mtime = st.st_mtim.tv_sec;
    t.mtime_nsec = protocol >= 31 ? static_cast<std::uint32_t>(st.st_mtim.tv_nsec) : 0;
    if (attrs.preserve_uid)
        t.uid = st.st_uid;
    if (attrs.preserve_gid)
        t.gid = st.st_gid;
    return t;
}

} // namespace

BackupMaker::BackupMaker(const ModuleWriter& writer, BackupSettings settings, Hooks hooks)
    : w_(writer), s_(std::move(settings)), h_(std::move(hooks))
{
    while (!s_.dir.empty() && s_.dir.back() == '/')
        s_.dir.pop_back();
}

std::string BackupMaker::local(std::string_view name) const
{
    return join_rel(s_.base, name);
}

void BackupMaker::say(LogCode code, std::string text) const
{
    if (h_.message)
        h_.message(code, std::move(text));
}

void BackupMaker::sys(LogCode code, int err, std::string text) const
{
    if (h_.syserr)
        h_.syserr(code, err, std::move(text));
}

std::string BackupMaker::full(std::string_view name) const
{
    return h_.full_fname ? h_.full_fname(name) : "\"" + std::string(name) + "\"";
}

bool BackupMaker::is_backup_file(std::string_view name) const noexcept
{
    // Upstream: delete.c:is_backup_file.
    return name.size() > s_.suffix.size() && name.compare(name.size() - s_.suffix.size(), s_.suffix.size(), s_.suffix) == 0;
}

std::string BackupMaker::module_path_of_backup(const std::string& name) const
{
    if (s_.dir.empty())
        return local(name);
    // backup_name() returns dir_shown + the name; the module path swaps the prefix.
    std::string_view rest = name;
    if (rest.compare(0, s_.dir_shown.size(), s_.dir_shown) == 0)
        rest.remove_prefix(s_.dir_shown.size());
    return join_rel(s_.dir, rest);
}

int BackupMaker::validate_dir(const std::string& backup_rel, const std::string& shown)
{
    // Upstream: backup.c:validate_backup_dir.
    struct stat st{};
    const Errno err = w_.lstat(backup_rel, st);
    if (err == ENOENT)
        return 0;
    if (err != 0) {
        sys(LogCode::Error, err, "backup lstat " + shown + " failed");
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return 1;
    return remove_entry(backup_rel, st.st_mode) ? 0 : -1;
}

bool BackupMaker::remove_entry(const std::string& module_rel, std::uint32_t mode)
{
    // Upstream delete_item(DEL_FOR_BACKUP | DEL_RECURSE); the hook takes names relative to
    // the transfer root, so a backup area outside it is cleared here instead.
    const std::string prefix = s_.base.empty() ? std::string() : s_.base + "/";
    if (h_.remove_in_way && (prefix.empty() || module_rel.compare(0, prefix.size(), prefix) == 0))
        return h_.remove_in_way(module_rel.substr(prefix.size()), mode);
    const Errno err = w_.remove(module_rel, true, {});
    return err == 0 || err == ENOENT;
}

bool BackupMaker::make_backup_dirs(const std::string& name)
{
    // Upstream: backup.c:copy_valid_path. Existing components must be directories (anything
    // else is removed); missing ones are made and get the attributes of the directory the
    // file comes from.
    const std::vector<std::string> dirs = parent_prefixes(name);
    std::size_t i = 0;
    for (; i < dirs.size(); ++i) {
        const int val = validate_dir(join_rel(s_.dir, dirs[i]), s_.dir_shown + dirs[i]);
        if (val < 0)
            return false;
        if (val == 0)
            break;
    }
    for (; i < dirs.size(); ++i) {
        const std::string rel = join_rel(s_.dir, dirs[i]);
        const std::string shown = s_.dir_shown + dirs[i];
        for (;;) {
            const Errno err = w_.mkdir(rel, 0777);
            if (err == 0)
                break;
            if (err == EEXIST) {
                const int val = validate_dir(rel, shown);
                if (val > 0)
                    break;
                if (val == 0)
                    continue;
                return false;
            }
            sys(LogCode::Error, err, "backup mkdir " + shown + " failed");
            return false;
        }
        struct stat src{};
        if (const Errno err = attr_source_stat(local(dirs[i]), dirs[i], src); err != 0) {
            sys(LogCode::Error, err, "backup stat " + full(dirs[i]) + " failed");
            continue;
        }
        copy_attrs(rel, shown, src);
    }
    return true;
}

std::optional<std::string> BackupMaker::backup_name(const std::string& name)
{
    // Upstream: backup.c:get_backup_name.
    if (s_.dir.empty()) {
        std::string shown = name + s_.suffix;
        if (local(shown).size() >= s_.max_name) {
            say(LogCode::Error, "backup filename too long\n");
            return std::nullopt;
        }
        return shown;
    }
    std::string shown = s_.dir_shown + name + s_.suffix;
    if (join_rel(s_.dir, name + s_.suffix).size() >= s_.max_name) {
        say(LogCode::Error, "backup filename too long\n");
        return std::nullopt;
    }
    if (s_.dry_run)
        return shown;
    if (!dir_ready_) {
        // make_path(backup_dir): create the directory and its missing parents.
        const int made = w_.make_parent_dirs(s_.dir + "/x", 0777);
        if (made < 0) {
            errno = -made;
            return std::nullopt;
        }
        dir_ready_ = true;
    }
    if (!make_backup_dirs(name))
        return std::nullopt;
    return shown;
}

int BackupMaker::link_or_rename(const std::string& from, const std::string& to, bool prefer_rename,
                                const struct stat& st, Errno& err)
{
    // Upstream: backup.c:link_or_rename (Linux can hard-link symlinks and specials).
    if (!prefer_rename) {
        err = w_.link(from, to);
        if (err == 0)
            return 2;
        if (!S_ISREG(st.st_mode) || err == EEXIST || err == EISDIR)
            return 0;
    }
    err = w_.rename(from, to);
    if (err == 0) {
        // A hard link of the same file already in the backup area makes rename() a no-op.
        if (st.st_nlink > 1 && !S_ISDIR(st.st_mode))
            (void)w_.unlink(from);
        return 1;
    }
    return 0;
}

Errno BackupMaker::attr_source_stat(const std::string& rel, std::string_view name, struct stat& st) const
{
    if (s_.attrs.am_root >= 0)
        return w_.lstat(rel, st);
    StatXattrLookup found;
    const Errno err = w_.lstat_fake_super(rel, st, found);
    if (err == 0 && found.result == StatXattrLookup::Result::Corrupt)
        throw_corrupt_stat_xattr(full(name), found.raw);
    return err;
}

struct stat BackupMaker::regular_attrs(const std::string& rel, std::string_view name, const struct stat& real) const
{
    struct stat st = real;
    if (s_.attrs.am_root < 0 && (attr_source_stat(rel, name, st) != 0 || !S_ISREG(st.st_mode)))
        st = real;
    return st;
}

void BackupMaker::copy_attrs(const std::string& to_rel, const std::string& shown, const struct stat& st)
{
    auto on_error = [this](int err, const std::string& text) { sys(LogCode::ErrorXfer, err, text); };
    (void)set_file_attrs(w_, to_rel, -1, target_from(st, s_.attrs, s_.protocol), nullptr, s_.attrs, 0, "\"" + shown + "\"",
                         on_error);
}

bool BackupMaker::copy_regular(const std::string& from, const std::string& to, const struct stat& st, Errno& err)
{
    // Upstream util1.c:copy_file, written to a temp name in the backup's directory and then
    // renamed onto the backup name, so a failed copy leaves no partial backup.
    UniqueFd in = w_.open_read(from, err);
    if (!in)
        return false;
    std::optional<TempFile> temp = w_.create_temp(to, "", err, st.st_mode & 07777);
    if (!temp)
        return false;
    char buf[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(in.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            w_.discard(*temp);
            return false;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            const ssize_t m = ::write(temp->fd.get(), buf + off, static_cast<std::size_t>(n - off));
            if (m < 0) {
                if (errno == EINTR)
                    continue;
                err = errno;
                w_.discard(*temp);
                return false;
            }
            off += m;
        }
    }
    bool copied = false;
    err = w_.rename_into_place(*temp, to, copied);
    if (err != 0) {
        w_.discard(*temp);
        return false;
    }
    return true;
}

bool BackupMaker::unsafe_link(const std::string& name, std::string& target) const
{
    const std::string rel = local(name);
    const auto slash = rel.rfind('/');
    Errno err = 0;
    UniqueFd dir = w_.open_dir(slash == std::string::npos ? std::string() : rel.substr(0, slash), err);
    if (!dir)
        return true;
    char buf[4096];
    const std::string leaf = slash == std::string::npos ? rel : rel.substr(slash + 1);
    const ssize_t n = ::readlinkat(dir.get(), leaf.c_str(), buf, sizeof buf - 1);
    if (n <= 0) {
        target.clear();
        return true;
    }
    target.assign(buf, static_cast<std::size_t>(n));
    return unsafe_symlink(target, name);
}

void BackupMaker::announce(const std::string& name, const std::string& shown) const
{
    if (s_.info_backup >= 1)
        say(LogCode::Info, "backed up " + name + " to " + shown + "\n");
}

std::optional<std::string> BackupMaker::copy_backup(const std::string& name, bool announce_now)
{
    // Upstream: generator.c:recv_generator's --inplace backup (back_file / f_copy), whose
    // copy is written while the block sums are read; copying first gives the same bytes.
    const std::string from = local(name);
    struct stat st{};
    if (w_.lstat(from, st) != 0 || !S_ISREG(st.st_mode))
        return std::nullopt;
    std::optional<std::string> shown = backup_name(name);
    if (!shown)
        return std::nullopt;
    if (!s_.dry_run) {
        const std::string to = module_path_of_backup(*shown);
        if (const Errno err = w_.unlink(to); err != 0 && err != ENOENT) {
            sys(LogCode::ErrorXfer, err, "unlink " + full(*shown));
            return std::nullopt;
        }
        Errno err = 0;
        if (!copy_regular(from, to, st, err)) {
            sys(LogCode::ErrorXfer, err, "open " + full(*shown));
            return std::nullopt;
        }
        copy_attrs(to, *shown, regular_attrs(from, name, st));
    }
    if (announce_now)
        announce(name, *shown);
    return shown;
}

BackupResult BackupMaker::make_backup(const std::string& name, bool prefer_rename)
{
    // Upstream: backup.c:make_backup_inner.
    const std::string from = local(name);
    struct stat st{};
    if (w_.lstat(from, st) != 0)
        return BackupResult::NothingToKeep;
    const std::optional<std::string> shown = backup_name(name);
    if (!shown)
        return BackupResult::Failed;
    const std::string to = module_path_of_backup(*shown);

    auto success = [&](BackupResult r) {
        if (s_.info_backup >= 1)
            say(LogCode::Info, "backed up " + name + " to " + *shown + "\n");
        return r;
    };

    if (s_.preserve_links && S_ISLNK(st.st_mode) && s_.safe_links) {
        std::string target;
        if (unsafe_link(name, target)) {
            if (s_.info_symsafe >= 1) {
                if (target.empty())
                    say(LogCode::Info, "not backing up symlink with unreadable target \"" + name + "\"\n");
                else
                    say(LogCode::Info, "not backing up unsafe symlink \"" + name + "\" -> \"" + target + "\"\n");
            }
            return success(BackupResult::Duplicated);
        }
    }
    if (s_.dry_run)
        return success(prefer_rename ? BackupResult::Moved : BackupResult::Duplicated);

    Errno err = 0;
    int ret = link_or_rename(from, to, prefer_rename, st, err);
    if (ret != 0)
        return success(static_cast<BackupResult>(ret));
    if (err == EEXIST || err == EISDIR) {
        struct stat bst{};
        if (w_.lstat(to, bst) == 0) {
            if (!remove_entry(to, bst.st_mode))
                return BackupResult::Failed;
        }
        ret = link_or_rename(from, to, prefer_rename, st, err);
        if (ret != 0)
            return success(static_cast<BackupResult>(ret));
    }

    // Fall back to making a copy.
    bool made = false;
    if ((s_.attrs.am_root > 0 && s_.preserve_devices && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) ||
        (s_.preserve_specials && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))) {
        if (const Errno e = w_.mknod(to, st.st_mode, st.st_rdev); e != 0)
            sys(LogCode::Error, e, "mknod " + full(*shown) + " failed");
        made = true;
    }
    if (!made && s_.preserve_links && S_ISLNK(st.st_mode)) {
        std::string target;
        const bool unsafe = unsafe_link(name, target);
        if (s_.safe_links && unsafe) {
            if (s_.info_symsafe >= 1)
                say(LogCode::Info, "not backing up unsafe symlink \"" + name + "\" -> \"" + target + "\"\n");
        } else if (const Errno e = w_.symlink(target, to); e != 0) {
            sys(LogCode::Error, e, "link " + full(*shown) + " -> \"" + target + "\"");
        }
        made = true;
    }
    if (!made && !S_ISREG(st.st_mode)) {
        if (s_.info_nonreg >= 1)
            say(LogCode::Info, "make_bak: skipping non-regular file " + name + "\n");
        return BackupResult::NothingToKeep;
    }
    if (!made) {
        if (!copy_regular(from, to, st, err)) {
            sys(LogCode::Error, err, "keep_backup failed: " + full(name) + " -> \"" + *shown + "\"");
            return BackupResult::Failed;
        }
        copy_attrs(to, *shown, regular_attrs(from, name, st));
    } else {
        copy_attrs(to, *shown, st);
    }
    return success(BackupResult::Duplicated);
}

} // namespace ocr::transfer
