// SPDX-License-Identifier: MIT
// A push's driver. Upstream forks the receiver off the generator after reading the file
// list (main.c:do_recv); we start a thread that reads the socket while this one writes.
#include "transfer/push_engine.hpp"

#include "protocol/protocol_error.hpp"
#include "transfer/generator.hpp"
#include "transfer/module_symlinks.hpp"
#include "transfer/push_channel.hpp"
#include "transfer/push_deletion.hpp"
#include "transfer/receiver.hpp"
#include "transfer/receiver_flists.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::ProtocolError;

std::string strip_dest(std::string d)
{
    while (d.size() > 1 && d.back() == '/')
        d.pop_back();
    while (d.rfind("./", 0) == 0)
        d.erase(0, 2);
    if (d == "." || d == "/")
        d.clear();
    return d;
}

// Upstream util1.c:sanitize_path for a relative argument of a daemon not chrooted: no
// empty or "." components, and ".." only as the first @p depth components (each one
// above the destination is allowed up to the module root).
std::string sanitize_relative(std::string_view p, int depth)
{
    std::vector<std::string> kept;
    std::size_t fixed = 0; // leading ".." components that stay
    std::size_t pos = 0;
    while (pos <= p.size()) {
        const auto slash = p.find('/', pos);
        const std::string_view part = p.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        pos = slash == std::string_view::npos ? p.size() + 1 : slash + 1;
        if (part.empty() || part == ".")
            continue;
        if (part == "..") {
            if (depth > 0 && kept.size() == fixed) {
                --depth;
                kept.emplace_back("..");
                ++fixed;
            } else if (kept.size() > fixed) {
                kept.pop_back();
            }
            continue;
        }
        kept.emplace_back(part);
    }
    std::string out;
    for (const std::string& k : kept)
        out += (out.empty() ? "" : "/") + k;
    return out.empty() ? std::string(".") : out;
}

// A path below the module root with ".." resolved (never above the root); "" is the root.
// That is sanitize_relative with no ".." allowed to stay.
std::string module_normal(std::string_view p)
{
    std::string out = sanitize_relative(p, 0);
    return out == "." ? std::string() : out;
}

std::string_view alt_dest_name(int type)
{
    switch (type) {
    case 1: return "--compare-dest";
    case 2: return "--copy-dest";
    default: return "--link-dest";
    }
}

} // namespace

PushEngine::PushEngine(const ReceiverOptions& options, Services services) : opt_(options), s_(std::move(services)) {}

PushDestination PushEngine::get_local_name(ReceiverFileLists& lists)
{
    // Upstream main.c:get_local_name. Its messages show the sanitized argument, which a
    // chrooted module roots at "/". The line numbers are those the 3.5.0 binary reports
    // (they differ from the unpacked source by ten).
    PushDestination d;
    if (!opt_.dest_given)
        return d;
    std::string dest = opt_.dest_path.empty() ? std::string(".") : opt_.dest_path;
    while (dest.rfind("./", 0) == 0 && dest.size() > 2)
        dest.erase(0, 2);
    const std::string shown = s_.chrooted && dest != "." ? "/" + dest : dest;
    auto full_fname = [this](const std::string& name) { return "\"" + name + "\" (in " + s_.module_name + ")"; };
    auto sys_error = [](const std::string& text, Errno err) {
        return "rsync: [Receiver] " + text + ": " + std::strerror(err) + " (" + std::to_string(err) + ")";
    };
    const std::int64_t total = lists.total_entries();
    {
        std::string cleaned = dest;
        while (cleaned.size() > 1 && cleaned.back() == '/')
            cleaned.pop_back();
        if (cleaned.size() > 2 && cleaned.compare(cleaned.size() - 2, 2, "/.") == 0)
            cleaned.resize(cleaned.size() - 2);
        if (cleaned != "." && (s_.filters.daemon_excluded(cleaned, false) || s_.filters.daemon_excluded(cleaned, true)))
            throw ProtocolError(ExitCode::FileSelect, "ERROR: daemon has excluded destination \"" + shown + "\"",
                                protocol::UpstreamSite{"main.c", 735});
    }
    const bool trailing_slash = dest.size() > 1 && dest.back() == '/';
    const std::string rel = strip_dest(dest);
    if (rel.empty()) {
        d.base.clear();
        return d;
    }
    struct stat st{};
    Errno err = s_.writer.lstat(rel, st);
    // stat("name/") of a non-directory fails with ENOTDIR.
    if (err == 0 && trailing_slash && !S_ISDIR(st.st_mode))
        err = ENOTDIR;
    if (err == 0) {
        if (S_ISDIR(st.st_mode)) {
            d.base = rel;
            return d;
        }
        if (total > 1)
            throw ProtocolError(ExitCode::FileSelect,
                                "ERROR: destination must be a directory when copying more than 1 file",
                                protocol::UpstreamSite{"main.c", 777});
        if (total == 1 && lists.list_count() > 0 && !lists.list(0).entries.empty() &&
            protocol::is_dir(lists.list(0).entries[0].mode))
            throw ProtocolError(ExitCode::FileSelect, "ERROR: cannot overwrite non-directory with a directory",
                                protocol::UpstreamSite{"main.c", 783});
    } else if (err != ENOENT) {
        throw ProtocolError(ExitCode::FileSelect, sys_error("ERROR: cannot stat destination " + full_fname(shown), err),
                            protocol::UpstreamSite{"main.c", 789});
    }
    std::string shown_dir = shown;
    while (shown_dir.size() > 1 && shown_dir.back() == '/')
        shown_dir.pop_back();
    if (total > 1 || trailing_slash) {
        if (err == 0)
            throw ProtocolError(ExitCode::Syntax, "ERROR: destination path is not a directory",
                                protocol::UpstreamSite{"main.c", 801});
        if (!opt_.dry_run) {
            const Errno merr = s_.writer.mkdir(rel, 0777);
            if (merr != 0)
                throw ProtocolError(ExitCode::FileIo, sys_error("mkdir " + full_fname(shown_dir) + " failed", merr),
                                    protocol::UpstreamSite{"main.c", 808});
        }
        if (opt_.info_name >= 1 || opt_.stdout_format_has_i)
            s_.report.emit(LogCode::Info, "created directory " + shown_dir + "\n");
        d.missing = opt_.dry_run;
        d.created = true;
        d.base = rel;
        return d;
    }
    // One non-directory written under the destination's name, in its parent directory.
    d.solo_file = rel;
    const auto slash = rel.rfind('/');
    d.base = slash == std::string::npos ? std::string() : rel.substr(0, slash);
    if (!d.base.empty()) {
        struct stat pst{};
        Errno perr = s_.writer.lstat(d.base, pst);
        if (perr == 0 && !S_ISDIR(pst.st_mode))
            perr = ENOTDIR;
        if (perr != 0) {
            const auto shown_slash = shown.rfind('/');
            const std::string parent = shown_slash == 0 ? std::string("/") : shown.substr(0, shown_slash);
            throw ProtocolError(ExitCode::FileSelect, sys_error("change_dir#3 " + full_fname(parent) + " failed", perr),
                                protocol::UpstreamSite{"main.c", 855});
        }
    }
    return d;
}

Errno PushEngine::stat_following(const std::string& rel, struct stat& st) const
{
    Errno err = s_.writer.lstat(rel, st);
    if (err == 0 && S_ISLNK(st.st_mode)) {
        // do_stat follows a symlink: judge by what it leads to inside the module.
        Errno derr = 0;
        if (s_.writer.open_dir(rel, derr))
            st.st_mode = S_IFDIR | (st.st_mode & 07777);
        else if (derr == ENOENT || derr == ELOOP)
            err = ENOENT;
    }
    return err;
}

void PushEngine::check_alt_basis_dirs(const PushDestination& dest, std::vector<std::string>& out) const
{
    // Upstream main.c:do_server_recv sanitizes the args against the destination's depth
    // (a module not chrooted), then check_alt_basis_dirs makes a relative one absolute
    // from the current directory (a chrooted module) and warns about what is missing.
    int depth = 0;
    for (std::size_t i = 0; i < dest.base.size(); ++i)
        depth += dest.base[i] == '/' ? 1 : 0;
    if (!dest.base.empty())
        ++depth;
    const std::string& mdir = opt_.module_dir;
    const std::string curr_dir = dest.base.empty() ? mdir : (mdir == "/" ? "/" : mdir + "/") + dest.base;
    for (const std::string& arg : opt_.basis_dirs) {
        std::string shown = arg;
        bool absolute = !arg.empty() && arg[0] == '/';
        if (opt_.sanitize_paths)
            shown = absolute ? (mdir == "/" ? std::string("/") : mdir + "/") + module_normal(arg)
                             : sanitize_relative(arg, depth);
        if (shown.size() > 1 && shown.back() == '/')
            shown.pop_back();
        if (!absolute && (!opt_.sanitize_paths || dest.missing)) {
            shown = (curr_dir == "/" ? std::string("/") : curr_dir + "/") + shown;
            absolute = true;
        }
        std::string rel;
        if (!absolute)
            rel = module_normal(dest.base + "/" + shown);
        else if (mdir == "/")
            rel = module_normal(shown);
        else if (shown.compare(0, mdir.size(), mdir) == 0 && (shown.size() == mdir.size() || shown[mdir.size()] == '/'))
            rel = module_normal(std::string_view(shown).substr(mdir.size()));
        else
            rel = module_normal(shown); // cannot leave the module: read it as module-rooted
        // Later lookups refuse symlinks; upstream follows them (a "latest" link is common).
        auto lstat_fn = [this](const std::string& p, struct stat& st) { return s_.writer.lstat(p, st); };
        auto readlink_fn = [this](const std::string& p) { return s_.writer.read_link(p); };
        const std::string as_given = rel;
        if (const auto resolved = resolve_module_symlinks(rel, mdir, false, lstat_fn, readlink_fn))
            rel = *resolved;
        out.push_back(rel);
        // Upstream's do_stat still follows an absolute link of a module that is not chrooted.
        std::string seen = rel;
        if (const auto followed = resolve_module_symlinks(as_given, mdir, true, lstat_fn, readlink_fn))
            seen = *followed;
        struct stat st{};
        if (stat_following(seen, st) != 0)
            s_.report.emit(LogCode::Warning, std::string(alt_dest_name(opt_.alt_dest_type)) +
                                                 " arg does not exist: " + shown + "\n");
        else if (!S_ISDIR(st.st_mode))
            s_.report.emit(LogCode::Warning, std::string(alt_dest_name(opt_.alt_dest_type)) +
                                                 " arg is not a dir: " + shown + "\n");
    }
}

void PushEngine::check_backup_dir(const PushDestination& dest) const
{
    // Upstream main.c:do_recv stats backup_dir_buf (without its trailing '/') from the
    // destination directory; a missing one is made later, by the first backup. 3.5.0
    // reports these lines ten below the unpacked source's, as for the temp dir.
    if (opt_.backup_dir.empty())
        return;
    const std::string rel = resolve_from_destination(dest, opt_.backup_dir);
    struct stat st{};
    Errno err = s_.writer.stat_beneath(rel, st);
    if (err == ELOOP)
        err = ENOENT; // a link out of the module: as missing (nothing is made through it)
    if (err == 0 && S_ISDIR(st.st_mode))
        return;
    std::string shown = opt_.backup_dir_shown.empty() ? opt_.backup_dir : opt_.backup_dir_shown;
    if (shown.size() > 1 && shown.back() == '/')
        shown.pop_back();
    if (err == 0)
        throw ProtocolError(ExitCode::Syntax, "The backup-dir is not a directory: " + shown,
                            protocol::UpstreamSite{"main.c", 1032});
    if (err != ENOENT)
        throw ProtocolError(ExitCode::FileIo, "Failed to stat " + shown + ": " + std::strerror(err),
                            protocol::UpstreamSite{"main.c", 1036});
}

void PushEngine::check_temp_dir(const std::string& rel) const
{
    // Upstream main.c:do_recv refuses a temp dir that is missing or not a directory before
    // it forks the receiver (3.5.0 reports these lines ten below the unpacked source's).
    if (rel.empty())
        return;
    struct stat st{};
    const Errno err = stat_following(rel, st);
    const std::string& shown = opt_.temp_dir_shown.empty() ? opt_.temp_dir : opt_.temp_dir_shown;
    if (err == 0 && S_ISDIR(st.st_mode))
        return;
    if (err == 0)
        throw ProtocolError(ExitCode::Syntax, "The temp-dir is not a directory: " + shown,
                            protocol::UpstreamSite{"main.c", 1052});
    if (err == ENOENT)
        throw ProtocolError(ExitCode::Syntax, "The temp-dir does not exist: " + shown,
                            protocol::UpstreamSite{"main.c", 1056});
    throw ProtocolError(ExitCode::FileIo, "Failed to stat temp-dir " + shown + ": " + std::strerror(err),
                        protocol::UpstreamSite{"main.c", 1059});
}

PushResult PushEngine::run(const WireFilterParams& wire)
{
    Connection& conn = s_.conn;
    PushChannel channel;
    const bool numeric = opt_.numeric_ids || opt_.flist.numeric_ids != protocol::NumericIds::Off;
    FilterSet& filters = s_.filters;
    // Upstream flist.c:recv_file_entry refuses names the client's own rules exclude (its
    // filter_list, unless a dir-merge rule makes us trust the sender); the module's rules
    // are the generator's business ("daemon refused to receive", exit 23).
    ReceiverFileLists lists(
        opt_.flist,
        [&filters](std::string_view name, bool is_dir) {
            return !filters.saw_dir_merge() && filters.excluded(name, is_dir) == Exclusion::Client;
        },
        numeric);
    lists.set_keep_foreign_groups(opt_.am_root < 0);

    PushShared shared{opt_, s_.writer, lists, channel, {}, s_.module_name, s_.chrooted, {}, s_.chmod, {}, s_.log_item, s_.log_delete, nullptr, {}};
    if (s_.log_item) {
        // Upstream log.c:log_formatted's %U/%G read F_OWNER/F_GROUP, which the receiver's
        // flist.c:recv_file_entry already mapped to local ids.
        shared.log_item = [&lists, inner = s_.log_item](const PushLogItem& item) {
            PushLogItem mapped = item;
            if (item.entry) {
                mapped.local_uid = lists.local_uid(item.entry->uid);
                const auto gid = lists.local_gid(item.entry->gid);
                mapped.local_gid = gid.value_or(item.entry->gid);
                mapped.group_skipped = !gid.has_value();
            }
            inner(mapped);
        };
    }
    shared.attrs.preserve_perms = opt_.preserve_perms;
    shared.attrs.preserve_executability = opt_.preserve_executability;
    shared.attrs.preserve_mtimes = opt_.preserve_mtimes;
    shared.attrs.omit_dir_times = opt_.omit_dir_times;
    shared.attrs.omit_link_times = opt_.omit_link_times;
    shared.attrs.preserve_uid = opt_.preserve_uid;
    shared.attrs.preserve_gid = opt_.preserve_gid;
    shared.attrs.am_root = opt_.am_root;
    shared.attrs.dry_run = opt_.dry_run;
    shared.attrs.modify_window = opt_.modify_window;
    shared.attrs.daemon_chmod = s_.daemon_chmod;
    shared.daemon_excluded = [&filters](std::string_view name, bool is_dir) {
        return filters.daemon_excluded(name, is_dir);
    };

    Receiver receiver(shared, conn);
    conn.set_handler(&receiver);
    s_.report.set_can_send(true);
    recv_filter_list(conn, filters, wire);
    for (const auto& m : filters.take_messages())
        s_.report.emit(m.level == FilterMessage::Level::Error ? LogCode::Error : LogCode::Info, m.text);
    // Upstream flist.c:recv_file_list logs this for the daemon (FLOG).
    s_.report.emit(LogCode::Log, "receiving file list\n");
    lists.set_id_maps(opt_.usermap, opt_.groupmap,
                      [this](const std::string& text) { s_.report.emit(LogCode::Error, text); });
    if (opt_.prune_empty_dirs) {
        // Upstream flist.c:flist_clean prunes on the receiver (the client sends every
        // directory); its is_excluded(ALL_FILTERS) keeps a directory the rules exclude.
        lists.set_prune_empty_dirs(
            [&filters](std::string_view name) { return filters.excluded(name, true) != Exclusion::None; });
    }
    receiver.read_file_lists();
    shared.dest = get_local_name(lists);
    // Upstream get_local_name chdirs into the destination: from now on the module's rules
    // with a slash match the names from the module root through it.
    filters.set_transfer_root(shared.dest.base);
    std::vector<std::string> basis_dirs;
    check_alt_basis_dirs(shared.dest, basis_dirs);
    receiver.set_basis_dirs(basis_dirs);
    PushDeletion deletion(shared, conn, s_.report, &filters);
    shared.deletion = &deletion;
    check_backup_dir(shared.dest);
    if (!opt_.temp_dir.empty()) {
        shared.temp_dir = resolve_from_destination(shared.dest, opt_.temp_dir);
        if (shared.temp_dir.empty())
            shared.temp_dir = ".";
    }
    check_temp_dir(shared.temp_dir);

    Generator generator(shared, conn, s_.report);
    generator.set_basis_dirs(std::move(basis_dirs));
    conn.flush();
    if (s_.on_receiver_start)
        s_.on_receiver_start();
    conn.split_directions();
    // Upstream's forked child reads from here on: its who_am_i() is "receiver", where the
    // process that set up the session and took the first file list was "Receiver".
    conn.set_role("receiver");
    // Upstream's generator sends its messages ("deleting ..." among them) ahead of the
    // requests it has buffered; the client's output order depends on it.
    conn.set_messages_ahead(true);
    std::thread reader([&receiver] { receiver.run(); });
    try {
        generator.run();
        generator.send_goodbye();
        generator.drain_until_receiver_ended();
    } catch (protocol::ProtocolError& e) {
        // Upstream's generator is the parent process: its exit line says "generator".
        e.tag_thread_role("generator");
        if (s_.fd >= 0 && !channel.failure())
            ::shutdown(s_.fd, SHUT_RD);
        reader.join();
        conn.set_handler(nullptr);
        throw;
    } catch (...) {
        // Unblock the reader (it may wait for bytes that will never come), then let it go.
        if (s_.fd >= 0 && !channel.failure())
            ::shutdown(s_.fd, SHUT_RD);
        reader.join();
        conn.set_handler(nullptr);
        throw;
    }
    reader.join();
    if (auto failure = channel.failure()) {
        try {
            std::rethrow_exception(failure);
        } catch (protocol::ProtocolError& e) {
            e.tag_thread_role("receiver"); // upstream's forked child
            throw;
        }
    }

    PushResult result;
    const int io_error = s_.report.io_error() | channel.io_error() | lists.io_error();
    result.exit_code = (io_error & kIoErrorGeneral) || s_.report.got_xfer_error() ? 23
                       : (io_error & kIoErrorVanished) ? 24
                       : (io_error & kIoErrorDelLimit) ? 25 // Upstream: cleanup.c:_exit_cleanup
                                                       : 0;
    result.total_read = conn.total_read();
    result.total_written = conn.total_written();
    result.total_size = lists.stats().total_size;
    return result;
}

} // namespace ocr::transfer
