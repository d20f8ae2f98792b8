// SPDX-License-Identifier: MIT
// Naming and mode helpers both threads of a push use.
#include "transfer/push_context.hpp"

#include "transfer/filter_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ocr::transfer {

std::string resolve_from_destination(const PushDestination& dest, std::string_view arg)
{
    if (!arg.empty() && arg.front() == '/')
        return resolve_module_path("", arg);
    return resolve_module_path(dest.base, arg);
}

std::string PushShared::local_path(std::string_view name) const
{
    if (dest.solo_file)
        return *dest.solo_file;
    if (name == "." || name.empty())
        return dest.base;
    if (dest.base.empty())
        return std::string(name);
    std::string p = dest.base;
    p += '/';
    p += name;
    return p;
}

std::string PushShared::full_fname(std::string_view name) const
{
    // Upstream util1.c:full_fname: the current directory below the module, then the name.
    std::string dir = chrooted ? "/" + dest.base : (dest.base.empty() ? std::string() : "/" + dest.base);
    if (dest.solo_file) {
        const auto slash = dest.solo_file->rfind('/');
        const std::string parent = slash == std::string::npos ? std::string() : dest.solo_file->substr(0, slash);
        dir = chrooted ? "/" + parent : (parent.empty() ? std::string() : "/" + parent);
        name = slash == std::string::npos ? std::string_view(*dest.solo_file)
                                          : std::string_view(*dest.solo_file).substr(slash + 1);
    }
    std::string out = "\"";
    if (!name.empty() && name.front() == '/') {
        out += name;
    } else {
        out += dir;
        const auto first = dir.find_first_not_of('/');
        if (first != std::string::npos)
            out += '/';
        out += name;
    }
    out += "\" (in " + module_name + ")";
    return out;
}

std::uint32_t PushShared::entry_mode(const protocol::FileEntry& e) const
{
    if (chmod && !protocol::is_symlink(e.mode) && e.mode != 0)
        return chmod->tweak_mode(e.mode);
    return e.mode;
}

AttrTarget PushShared::target_for(const protocol::FileEntry& e, std::uint32_t mode) const
{
    AttrTarget t;
    t.mode = mode;
    t.mtime = e.mtime;
    t.mtime_nsec = opt.flist.protocol >= 31 ? e.mtime_nsec : 0;
    if (opt.preserve_uid)
        t.uid = lists.local_uid(e.uid);
    if (opt.preserve_gid)
        t.gid = lists.local_gid(e.gid);
    return t;
}

Errno PushShared::stat_path(const std::string& rel, struct stat& st) const
{
    if (!rel.empty() && rel != ".")
        return writer.lstat(rel, st);
    Errno err = 0;
    UniqueFd fd = writer.open_dir("", err);
    if (!fd)
        return err ? err : ENOENT;
    return ::fstat(fd.get(), &st) == 0 ? 0 : errno;
}

std::optional<std::string> PushShared::read_link(const std::string& rel) const
{
    return writer.read_link(rel);
}

std::optional<std::string> PushShared::partial_path(std::string_view rel, std::string_view name) const
{
    if (opt.partial_dir.empty())
        return std::nullopt;
    auto parent_of = [](std::string_view p) {
        const auto slash = p.rfind('/');
        return slash == std::string_view::npos ? std::string() : std::string(p.substr(0, slash + 1));
    };
    const auto slash = rel.rfind('/');
    const std::string leaf(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
    const std::string dir_in_list = parent_of(name) + opt.partial_dir;
    if (daemon_excluded && (daemon_excluded(dir_in_list, true) || daemon_excluded(dir_in_list + "/" + leaf, false)))
        return std::nullopt;
    return parent_of(rel) + opt.partial_dir + "/" + leaf;
}

bool PushShared::make_partial_dir(std::string_view partial_rel) const
{
    const auto slash = partial_rel.rfind('/');
    if (slash == std::string_view::npos)
        return true;
    const std::string dir(partial_rel.substr(0, slash));
    struct stat st{};
    Errno err = writer.lstat(dir, st);
    if (err == 0 && !S_ISDIR(st.st_mode)) {
        if (writer.unlink(dir) != 0)
            return false;
        err = ENOENT;
    }
    return err == 0 || writer.mkdir(dir, 0700) == 0;
}

void PushShared::remove_partial_dir(std::string_view partial_rel) const
{
    const auto slash = partial_rel.rfind('/');
    if (slash != std::string_view::npos && !opt.partial_dir.empty())
        (void)writer.rmdir(partial_rel.substr(0, slash)); // not empty or gone: ignored, as upstream
}

std::string PushShared::stored_target(const protocol::FileEntry& e) const
{
    // Upstream: a munging module stores every received target behind this prefix.
    return opt.munge_symlinks ? std::string(kMungedSymlinkPrefix) + e.symlink_target : e.symlink_target;
}

} // namespace ocr::transfer
