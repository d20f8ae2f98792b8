// SPDX-License-Identifier: MIT
// The generator of a push. Order and texts follow upstream generator.c:generate_files,
// recv_generator, itemize and check_for_finished_files; io.c:wait_for_receiver.
#include "transfer/generator.hpp"

#include "protocol/protocol_error.hpp"
#include "protocol/sum_head.hpp"
#include "protocol/wire.hpp"
#include "transfer/basis_sums.hpp"
#include "transfer/file_window.hpp"
#include "transfer/itemize.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::ProtocolError;

// Upstream MIN_FILECNT_LOOKAHEAD / 2 is how far the generator may get ahead; we only use
// the loop-check cadence for keep-alives.
constexpr std::int32_t kLoopCheck = 200;

bool is_below(std::string_view name, std::string_view dir)
{
    if (dir == ".")
        return name != ".";
    return name.size() > dir.size() && name.compare(0, dir.size(), dir) == 0 && name[dir.size()] == '/';
}

std::string random_suffix()
{
    static thread_local std::mt19937 rng{std::random_device{}()};
    static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(6, 'X');
    for (char& c : s)
        c = kChars[rng() % (sizeof kChars - 1)];
    return s;
}

} // namespace

Generator::Generator(PushShared& shared, Connection& conn, Reporter& report)
    : s_(shared), conn_(conn), report_(report), ndx_out_(shared.opt.flist.protocol)
{
    if (s_.opt.xfer_checksum.kind != protocol::ChecksumKind::None) {
        block_sum_.emplace(s_.opt.xfer_checksum, s_.opt.checksum_seed);
        xfer_sum_len_ = protocol::checksum_length(s_.opt.xfer_checksum.kind);
    }
}

void Generator::write_ndx(std::int32_t ndx)
{
    std::string out;
    ndx_out_.put(out, ndx);
    conn_.write(out);
}

void Generator::maybe_keepalive()
{
    if (s_.opt.flist.protocol >= 30)
        conn_.keepalive();
}

void Generator::handle_event(const PushEvent& ev)
{
    using K = PushEvent::Kind;
    auto state_of = [this](std::int32_t ndx) -> ListState* {
        const auto li = s_.lists.list_for_ndx(ndx);
        if (!li || *li >= states_.size())
            return nullptr;
        return &states_[*li];
    };
    switch (ev.kind) {
    case K::Message:
        report_.emit(ev.code, ev.text);
        break;
    case K::Success:
    case K::NoSend:
        // Upstream io.c:got_flist_entry_status.
        if (s_.opt.flist.inc_recurse)
            if (ListState* st = state_of(ev.ndx))
                --st->in_progress;
        break;
    case K::Redo:
        if (s_.opt.flist.inc_recurse)
            if (ListState* st = state_of(ev.ndx)) {
                --st->in_progress;
                ++st->to_redo;
            }
        redo_.push_back(ev.ndx);
        break;
    case K::Done:
        ++msgdone_;
        break;
    case K::ListAdded:
        visible_lists_ = std::max(visible_lists_, static_cast<std::size_t>(ev.ndx));
        states_.resize(visible_lists_);
        break;
    case K::FlistEof:
        flist_eof_ = true;
        break;
    case K::Ended:
        receiver_ended_ = true;
        if (auto failure = s_.channel.failure())
            std::rethrow_exception(failure);
        break;
    }
}

void Generator::wait_for_receiver()
{
    if (receiver_ended_)
        throw ProtocolError(ExitCode::StreamIo, "connection unexpectedly closed (receiver ended) [generator]");
    for (;;) {
        conn_.flush();
        const auto wait = s_.opt.io_timeout.count() > 0
                              ? std::chrono::milliseconds(s_.opt.io_timeout.count() * 250)
                              : std::chrono::milliseconds(5000);
        if (auto ev = s_.channel.take(wait)) {
            handle_event(*ev);
            return;
        }
        maybe_keepalive();
    }
}

void Generator::check_for_finished_files(bool check_redo)
{
    // Drain what the receiver already said, without blocking.
    while (auto ev = s_.channel.take(std::chrono::milliseconds(0)))
        handle_event(*ev);
    for (;;) {
        if (check_redo && !redo_.empty()) {
            const std::int32_t ndx = redo_.front();
            redo_.pop_front();
            const auto li = s_.lists.list_for_ndx(ndx);
            const protocol::FileEntry* e = s_.lists.entry_for_ndx(ndx);
            if (!li || !e || ndx < s_.lists.list(*li).ndx_start)
                throw ProtocolError(ExitCode::Protocol, "redo of an unknown file index " + std::to_string(ndx));
            recv_generator(*e, ndx, 0, true);
            if (s_.opt.flist.inc_recurse && *li < states_.size())
                --states_[*li].to_redo;
            continue;
        }
        if (!s_.opt.flist.inc_recurse)
            return;
        if (cur_ && *cur_ == first_live_)
            return;
        if (first_live_ >= visible_lists_)
            return;
        const ListState& st = states_[first_live_];
        if (st.in_progress > 0 || st.to_redo > 0)
            return;
        // The oldest list is complete: tell the sender, and fix up its directory.
        write_ndx(protocol::kNdxDone);
        const protocol::DecodedList& l = s_.lists.list(first_live_);
        if (dir_tweaking_ && l.parent_dir_ndx >= 0)
            if (const protocol::FileEntry* d = s_.lists.dir_entry(l.parent_dir_ndx))
                touch_up_dir(*d);
        ++first_live_;
    }
}

void Generator::run()
{
    const ReceiverOptions& o = s_.opt;
    const int protocol = o.flist.protocol;
    dir_tweaking_ = !(s_.dest.solo_file || o.dry_run);
    visible_lists_ = s_.lists.list_count();
    states_.resize(visible_lists_);
    flist_eof_ = s_.lists.eof();

    if (o.flist.inc_recurse) {
        cur_ = 0;
        for (;;) {
            generate_list(*cur_);
            for (;;) {
                check_for_finished_files(true);
                if (*cur_ + 1 < visible_lists_ || flist_eof_)
                    break;
                wait_for_receiver();
            }
            if (*cur_ + 1 < visible_lists_) {
                ++*cur_;
                continue;
            }
            cur_.reset();
            break;
        }
    } else {
        generate_list(0);
        write_ndx(protocol::kNdxDone);
    }

    const bool early_delay_done = !o.delay_updates;
    const bool early_delete_done = true; // --delete-during=2 / --delete-after not supported yet
    ++phase_;
    for (;;) {
        check_for_finished_files(true);
        if (msgdone_ > 0)
            break;
        wait_for_receiver();
    }
    ++phase_;
    write_ndx(protocol::kNdxDone);
    if (protocol >= 29 && early_delay_done)
        write_ndx(protocol::kNdxDone);
    if (protocol >= 31 && early_delete_done && early_delay_done)
        write_ndx(protocol::kNdxDone);
    for (;;) {
        check_for_finished_files(false);
        if (msgdone_ > 1)
            break;
        wait_for_receiver();
    }
    if (protocol >= 29) {
        ++phase_;
        if (!early_delay_done) {
            write_ndx(protocol::kNdxDone);
            if (protocol >= 31 && early_delete_done)
                write_ndx(protocol::kNdxDone);
        }
        while (msgdone_ == 2)
            wait_for_receiver();
    }
    if (protocol >= 31)
        while (msgdone_ == 3)
            wait_for_receiver();
    if (dir_tweaking_ && !o.flist.inc_recurse)
        for (const protocol::FileEntry* d : dirs_to_touch_)
            touch_up_dir(*d);
}

void Generator::send_goodbye()
{
    if (s_.opt.flist.protocol >= 24)
        write_ndx(protocol::kNdxDone);
    conn_.flush();
}

void Generator::drain_until_receiver_ended()
{
    while (!receiver_ended_) {
        conn_.flush();
        if (auto ev = s_.channel.take(std::chrono::milliseconds(1000)))
            handle_event(*ev);
    }
    conn_.flush();
}

void Generator::generate_list(std::size_t li)
{
    const protocol::DecodedList& l = s_.lists.list(li);
    if (s_.opt.flist.inc_recurse && l.parent_dir_ndx >= 0)
        if (const protocol::FileEntry* d = s_.lists.dir_entry(l.parent_dir_ndx))
            recv_generator(*d, l.ndx_start - 1, 1, false);
    std::int32_t counter = 0;
    for (std::int64_t i = static_cast<std::int64_t>(l.low); i <= l.high; ++i) {
        const protocol::FileEntry& e = l.entries[static_cast<std::size_t>(i)];
        if (!e.active)
            continue;
        const auto ndx = static_cast<std::int32_t>(l.ndx_start + i);
        const int is_dir = !protocol::is_dir(e.mode) ? 0 : s_.opt.flist.inc_recurse ? -1 : 1;
        recv_generator(e, ndx, is_dir, false);
        check_for_finished_files(false);
        if (++counter >= kLoopCheck) {
            counter = 0;
            maybe_keepalive();
        }
    }
}

AttrOutcome Generator::set_attrs(const protocol::FileEntry& e, const std::string& rel, std::uint32_t mode,
                                 const struct stat* st, int flags, bool dir_created)
{
    AttrTarget t = s_.target_for(e, mode);
    t.dir_created = dir_created;
    const std::string name = s_.full_fname(e.name);
    auto on_error = [this](int err, const std::string& text) { report_.syserr(LogCode::ErrorXfer, err, text); };
    AttrOutcome out;
    if (rel.empty()) {
        // The module root itself ("."): act on its handle, there is no name to use.
        if (!st && s_.opt.dry_run)
            return out;
        Errno err = 0;
        UniqueFd fd = s_.writer.open_dir("", err);
        if (!fd) {
            on_error(err, "stat " + name + " failed");
            out.ok = false;
        } else {
            out = set_file_attrs(s_.writer, rel, fd.get(), t, st, s_.attrs, flags, name, on_error);
        }
    } else {
        out = set_file_attrs(s_.writer, rel, -1, t, st, s_.attrs, flags, name, on_error);
    }
    if (!out.ok)
        report_.add_io_error(kIoErrorGeneral);
    if (out.time_failed)
        time_failed_.insert(&e);
    return out;
}

bool Generator::delete_item(const std::string& rel, const struct stat& st)
{
    // Upstream delete.c:delete_item for an entry in the way of a new one.
    if (s_.opt.dry_run)
        return true;
    const bool recurse = S_ISDIR(st.st_mode) && s_.opt.delete_mode != 0;
    const Errno err = s_.writer.remove(rel, recurse, {});
    if (err == 0 || err == ENOENT)
        return true;
    if (S_ISDIR(st.st_mode) && err == ENOTEMPTY) {
        report_.emit(LogCode::ErrorXfer,
                     "cannot delete non-empty directory: " + rel.substr(s_.dest.base.empty() ? 0 : s_.dest.base.size() + 1) + "\n");
    } else {
        report_.syserr(LogCode::ErrorXfer, err,
                       std::string(S_ISDIR(st.st_mode) ? "delete_file: rmdir " : "delete_file: unlink ") +
                           s_.full_fname(rel.substr(s_.dest.base.empty() ? 0 : s_.dest.base.size() + 1)) + " failed");
    }
    report_.add_io_error(kIoErrorGeneral);
    return false;
}

void Generator::itemize(const protocol::FileEntry& e, std::uint32_t mode, std::int32_t ndx, int statret,
                        const struct stat* st, std::uint32_t iflags)
{
    const ReceiverOptions& o = s_.opt;
    ItemizeCompare c;
    c.iflags = iflags;
    c.dest_exists = statret >= 0 && st != nullptr;
    c.file_mode = mode;
    c.file_length = e.size;
    if (c.dest_exists) {
        c.dest_mode = st->st_mode;
        c.dest_size = st->st_size;
        c.mtime_differs = mtime_differs(*st, e, o.modify_window);
        c.owner_differs = o.preserve_uid && o.am_root > 0 && s_.lists.local_uid(e.uid) != st->st_uid;
        if (o.preserve_gid) {
            const auto gid = s_.lists.local_gid(e.gid);
            c.group_differs = gid && *gid != st->st_gid;
        }
    }
    c.preserve_mtimes = o.preserve_mtimes;
    c.omit_dir_times = o.omit_dir_times;
    c.omit_link_times = o.omit_link_times;
    c.time_failed = time_failed_.count(&e) != 0;
    c.timeset_failed_flags = symlink_timeset_failed_flags(o.flist.protocol, true);
    c.preserve_perms = o.preserve_perms;
    c.preserve_executability = o.preserve_executability;
    const std::uint32_t flags = compute_item_flags(c);
    if (!item_is_reported(flags, o.info_name, o.stdout_format_has_i, false))
        return;
    if (o.flist.protocol >= 29) {
        std::string out;
        if (ndx >= 0)
            ndx_out_.put(out, ndx);
        protocol::put_u16(out, static_cast<std::uint16_t>(flags));
        conn_.write(out);
    } else if (ndx >= 0 && s_.log_item && o.logfile_format_has_i && !o.dry_run) {
        // Below 29 the daemon logs the item itself (log_item with FINFO / FCLIENT).
        s_.log_item(PushLogItem{&e, mode, flags, 0});
    }
}

bool Generator::quick_check_ok(const protocol::FileEntry& e, const std::string& rel, const struct stat& st)
{
    // Upstream generator.c:quick_check_ok for regular files.
    const ReceiverOptions& o = s_.opt;
    if (st.st_size != e.size)
        return false;
    if (o.always_checksum) {
        Errno err = 0;
        UniqueFd fd = s_.writer.open_read(rel, err);
        if (!fd)
            return false;
        auto sum = protocol::FileChecksum::for_file_list(o.file_checksum);
        FileDataWindow window(fd.get(), st.st_size);
        for (std::int64_t off = 0; off < st.st_size;) {
            const auto chunk = window.map(off, 1u << 20);
            if (chunk.empty())
                break;
            sum.update(chunk);
            off += static_cast<std::int64_t>(chunk.size());
        }
        std::string out(sum.length(), '\0');
        sum.finish(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()), out.size()));
        const std::size_t n = std::min(out.size(), e.checksum.size());
        return n > 0 && out.compare(0, n, e.checksum, 0, n) == 0;
    }
    if (o.size_only)
        return true;
    if (o.ignore_times)
        return false;
    return !mtime_differs(st, e, o.modify_window);
}

void Generator::recv_generator(const protocol::FileEntry& e, std::int32_t ndx, int is_dir, bool redo)
{
    const ReceiverOptions& o = s_.opt;
    const std::string rel = s_.local_path(e.name);

    if (skip_dir_) {
        if (is_below(e.name, skip_dir_name_)) {
            if (is_dir)
                missing_dir_.insert(&e);
            return;
        }
        skip_dir_ = nullptr;
    }
    if (s_.daemon_excluded && e.name != "." && s_.daemon_excluded(e.name, is_dir != 0)) {
        if (is_dir < 0)
            return;
        report_.emit(LogCode::ErrorXfer, std::string("ERROR: daemon refused to receive ") +
                                             (is_dir ? "directory" : "file") + " \"" + e.name + "\"\n");
        report_.add_io_error(kIoErrorGeneral);
        if (is_dir) {
            report_.emit(LogCode::Error, "*** Skipping any contents from this failed directory ***\n");
            skip_dir_ = &e;
            skip_dir_name_ = e.name;
            missing_dir_.insert(&e);
        }
        return;
    }

    struct stat st{};
    int statret = -1;
    Errno stat_errno = ENOENT;
    if (s_.dest.missing || (!dry_missing_dir_.empty() && is_below(e.name, dry_missing_dir_))) {
        statret = -1;
    } else {
        dry_missing_dir_.clear();
        stat_errno = s_.stat_path(rel, st);
        statret = stat_errno == 0 ? 0 : -1;
    }

    if (o.ignore_non_existing && statret != 0 && stat_errno == ENOENT) {
        if (is_dir) {
            if (is_dir < 0)
                return;
            skip_dir_ = &e;
            skip_dir_name_ = e.name;
            missing_dir_.insert(&e);
        }
        if (o.info_name >= 1) {
        }
        return;
    }
    if (o.ignore_existing && statret == 0 && (!is_dir || !S_ISDIR(st.st_mode)))
        return;

    if (is_dir) {
        gen_dir(e, rel, ndx, is_dir, statret, st);
        return;
    }
    if (statret != 0 && stat_errno != ENOENT && !protocol::is_regular(e.mode)) {
    }
    if (o.preserve_links && protocol::is_symlink(e.mode)) {
        gen_symlink(e, rel, ndx, statret, st);
        return;
    }
    if ((o.am_root > 0 && o.preserve_devices && protocol::is_device(e.mode)) ||
        (o.preserve_specials && protocol::is_special(e.mode))) {
        gen_special(e, rel, ndx, statret, st);
        return;
    }
    if (!protocol::is_regular(e.mode))
        return;
    if (statret != 0 && stat_errno != ENOENT) {
        report_.syserr(LogCode::ErrorXfer, stat_errno, "recv_generator: failed to stat " + s_.full_fname(e.name));
        report_.add_io_error(kIoErrorGeneral);
        return;
    }
    gen_file(e, rel, ndx, statret, st, redo);
}

void Generator::gen_dir(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int is_dir,
                        int statret, struct stat& st)
{
    const ReceiverOptions& o = s_.opt;
    if (!o.implied_dirs && e.implied_dir)
        return;
    const std::uint32_t added = o.am_root < 0 ? 0700u : 0u;
    std::uint32_t mode = s_.entry_mode(e);
    if (is_dir < 0) {
        // Upstream: create a missing directory now (owner-only) so that its parent's time
        // can be fixed as soon as the parent's list is done; it is handled in full later.
        if (!o.preserve_mtimes || o.omit_dir_times)
            return;
        if (statret == 0 && (S_ISDIR(st.st_mode) || !delete_item(rel, st)))
            return;
        if (o.dry_run || s_.writer.mkdir(rel, (mode | added) & 0700) == 0)
            dir_created_.insert(&e);
        return;
    }
    if (statret == 0 && !S_ISDIR(st.st_mode)) {
        if (!delete_item(rel, st)) {
            report_.emit(LogCode::Error, "*** Skipping any contents from this failed directory ***\n");
            skip_dir_ = &e;
            skip_dir_name_ = e.name;
            missing_dir_.insert(&e);
            return;
        }
        statret = -1;
    }
    if (o.dry_run && statret != 0) {
        if (dry_missing_dir_.empty())
            dry_missing_dir_ = e.name;
        missing_dir_.insert(&e);
    }
    const struct stat real_st = st;
    const int real_ret = statret;
    const bool created = dir_created_.count(&e) != 0 || (s_.dest.created && e.name == ".");
    if (created)
        statret = -1;
    if (!o.preserve_perms)
        mode = dest_mode(mode, st.st_mode, s_.default_perms(), statret == 0, o.preserve_executability);
    itemize(e, mode, ndx, statret, statret == 0 ? &st : nullptr, statret != 0 ? kItemLocalChange : 0);
    if (real_ret != 0 && !o.dry_run && !rel.empty()) {
        const Errno err = s_.writer.mkdir(rel, mode | added);
        if (err != 0 && err != EEXIST) {
            report_.syserr(LogCode::ErrorXfer, err, "recv_generator: mkdir " + s_.full_fname(e.name) + " failed");
            report_.emit(LogCode::Error, "*** Skipping any contents from this failed directory ***\n");
            report_.add_io_error(kIoErrorGeneral);
            skip_dir_ = &e;
            skip_dir_name_ = e.name;
            missing_dir_.insert(&e);
            return;
        }
    }
    const AttrOutcome out = set_attrs(e, rel, mode, real_ret != 0 ? nullptr : &real_st, 0, created);
    if (out.updated && o.info_name >= 1 && o.flist.protocol >= 29 && !o.logfile_format_has_i)
        report_.emit(LogCode::Log, e.name + "/\n");
    if (o.am_root == 0 && (mode & S_IRWXU) != S_IRWXU && dir_tweaking_) {
        // Keep the directory usable while its contents are written; touch_up_dir restores it.
        const Errno err = rel.empty() ? 0 : s_.writer.chmod(rel, (mode | S_IRWXU) & 07777);
        if (err != 0)
            report_.syserr(LogCode::ErrorXfer, err, "failed to modify permissions on " + s_.full_fname(e.name));
        need_retouch_dir_perms_ = true;
    }
    if (dir_tweaking_)
        dirs_to_touch_.push_back(&e);
}

void Generator::touch_up_dir(const protocol::FileEntry& e)
{
    // Upstream generator.c:touch_up_dirs for one directory.
    const ReceiverOptions& o = s_.opt;
    if (missing_dir_.count(&e))
        return;
    const std::string rel = s_.local_path(e.name);
    std::uint32_t mode = s_.entry_mode(e);
    struct stat st{};
    if (s_.stat_path(rel, st) != 0 || !S_ISDIR(st.st_mode))
        return;
    if (!o.preserve_perms)
        mode = dest_mode(mode, st.st_mode, s_.default_perms(), true, o.preserve_executability);
    if (need_retouch_dir_perms_ && o.am_root == 0 && (mode & 07777) != (st.st_mode & 07777) && !rel.empty())
        if (s_.writer.chmod(rel, mode & 07777) == 0)
            st.st_mode = (st.st_mode & ~07777u) | (mode & 07777);
    if (o.preserve_mtimes && !o.omit_dir_times && mtime_differs(st, e, o.modify_window))
        (void)set_attrs(e, rel, (st.st_mode & ~07777u) | (st.st_mode & 07777), &st, 0);
}

void Generator::gen_symlink(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int statret,
                            const struct stat& st)
{
    const ReceiverOptions& o = s_.opt;
    const std::string target = s_.stored_target(e);
    const std::uint32_t mode = e.mode;
    if (statret == 0 && S_ISLNK(st.st_mode)) {
        const auto now = s_.read_link(rel);
        if (now && *now == target) {
            (void)set_attrs(e, rel, mode, &st, o.stdout_format_has_i ? 0 : kAttrsReport);
            itemize(e, mode, ndx, 0, &st, 0);
            return;
        }
    }
    if (!o.dry_run) {
        const bool atomic = statret == 0 && !S_ISDIR(st.st_mode) && o.temp_dir.empty();
        if (statret == 0 && !atomic && !delete_item(rel, st))
            return;
        std::string create = rel;
        if (atomic) {
            const auto slash = rel.rfind('/');
            create = (slash == std::string::npos ? std::string() : rel.substr(0, slash + 1)) + "." +
                     (slash == std::string::npos ? rel : rel.substr(slash + 1)) + "." + random_suffix();
        }
        if (const Errno err = s_.writer.symlink(target, create); err != 0) {
            report_.syserr(LogCode::ErrorXfer, err,
                           "symlink " + s_.full_fname(e.name) + " -> \"" + target + "\" failed");
            report_.add_io_error(kIoErrorGeneral);
            return;
        }
        if (atomic) {
            if (const Errno err = s_.writer.rename(create, rel); err != 0) {
                report_.syserr(LogCode::ErrorXfer, err, "rename failed for " + s_.full_fname(e.name));
                report_.add_io_error(kIoErrorGeneral);
                (void)s_.writer.unlink(create);
                return;
            }
        }
    }
    (void)set_attrs(e, rel, mode, nullptr, 0);
    itemize(e, mode, ndx, (statret == 0 && !S_ISLNK(st.st_mode)) ? -1 : statret, &st,
            kItemLocalChange | kItemReportChange);
    if (o.info_name >= 1 && o.flist.protocol >= 29 && !o.logfile_format_has_i)
        report_.emit(LogCode::Log, e.name + " -> " + e.symlink_target + "\n");
}

void Generator::gen_special(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int statret,
                            const struct stat& st)
{
    const ReceiverOptions& o = s_.opt;
    std::uint32_t mode = s_.entry_mode(e);
    if (!o.preserve_perms)
        mode = dest_mode(mode, st.st_mode, s_.default_perms(), statret == 0, o.preserve_executability);
    const dev_t rdev = protocol::is_device(e.mode) ? makedev(e.rdev_major, e.rdev_minor) : 0;
    if (statret == 0) {
        const bool same_type = (st.st_mode & S_IFMT) == (e.mode & S_IFMT);
        if (same_type && (!protocol::is_device(e.mode) || st.st_rdev == rdev)) {
            (void)set_attrs(e, rel, mode, &st, o.stdout_format_has_i ? 0 : kAttrsReport);
            itemize(e, mode, ndx, 0, &st, 0);
            return;
        }
    }
    const int shown = statret == 0 && (st.st_mode & S_IFMT) != (e.mode & S_IFMT) ? -1 : statret;
    if (!o.dry_run) {
        if (statret == 0 && !delete_item(rel, st))
            return;
        if (const Errno err = s_.writer.mknod(rel, mode & (S_IFMT | 07777), rdev); err != 0) {
            if (S_ISSOCK(e.mode) && (err == EOPNOTSUPP || err == ENOSYS)) {
                report_.emit(LogCode::Warning, "skipping socket (creation unsupported here): " + s_.full_fname(e.name) + "\n");
                return;
            }
            report_.syserr(LogCode::ErrorXfer, err, "mknod " + s_.full_fname(e.name) + " failed");
            report_.add_io_error(kIoErrorGeneral);
            return;
        }
    }
    (void)set_attrs(e, rel, mode, nullptr, 0);
    itemize(e, mode, ndx, shown, &st, kItemLocalChange | kItemReportChange);
}

void Generator::gen_file(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int statret,
                         struct stat& st, bool redo)
{
    const ReceiverOptions& o = s_.opt;
    if (!redo) {
        if (o.max_size >= 0 && e.size > o.max_size)
            return;
        if (o.min_size >= 0 && e.size < o.min_size)
            return;
        if (o.update_only && statret == 0 && S_ISREG(st.st_mode) && e.mtime - st.st_mtim.tv_sec < o.modify_window)
            return;
    }
    std::uint32_t mode = s_.entry_mode(e);
    if (!o.preserve_perms)
        mode = dest_mode(mode, st.st_mode, s_.default_perms(), statret == 0 && !S_ISDIR(st.st_mode),
                         o.preserve_executability);
    if (statret == 0 && !S_ISREG(st.st_mode)) {
        if (!delete_item(rel, st))
            return;
        statret = -1;
    }
    const struct stat real_st = st;
    const int real_ret = statret;
    UniqueFd basis;
    if (statret == 0) {
        if (!redo && quick_check_ok(e, rel, st)) {
            (void)set_attrs(e, rel, mode, &st, (o.stdout_format_has_i ? 0 : kAttrsReport) |
                                                   (o.always_checksum ? kAttrsAccurateTime : 0));
            itemize(e, mode, ndx, statret, &st, 0);
            return;
        }
        if (!redo && o.append_mode > 0 && st.st_size >= e.size)
            return;
        if (!o.dry_run && !o.whole_file) {
            Errno err = 0;
            basis = s_.writer.open_read(rel, err);
            if (!basis) {
                report_.syserr(LogCode::Error, err, "failed to open " + s_.full_fname(e.name) + ", continuing");
                statret = -1;
            }
        }
    }

    // notify_others: request the file.
    if (o.flist.inc_recurse && !o.dry_run) {
        if (const auto li = s_.lists.list_for_ndx(ndx); li && *li < states_.size())
            ++states_[*li].in_progress;
    }
    write_ndx(ndx);
    std::uint32_t iflags = kItemTransfer;
    if (o.always_checksum)
        iflags |= kItemReportChange;
    itemize(e, mode, -1, real_ret, real_ret == 0 ? &real_st : nullptr, iflags);
    if (o.dry_run)
        return;

    BasisSumsParams bp;
    bp.protocol = o.flist.protocol;
    bp.block_size = o.block_size;
    bp.xfer_sum_len = xfer_sum_len_;
    bp.redo = redo;
    bp.append = o.append_mode > 0 && !redo;
    std::string h;
    if (statret != 0 || o.whole_file || !basis || st.st_size <= 0 || !block_sum_) {
        protocol::put_sum_head(h, protocol::SumHead{}, o.flist.protocol);
        conn_.write(h);
        return;
    }
    const auto head = choose_sum_head_checked(st.st_size, bp);
    if (!head) {
        report_.emit(LogCode::Warning, "WARNING: file is too large for checksum sending: " + e.name + "\n");
        protocol::put_sum_head(h, protocol::SumHead{}, o.flist.protocol);
        conn_.write(h);
        return;
    }
    FileDataWindow window(basis.get(), st.st_size);
    write_basis_sums(conn_, *head, window, *block_sum_, o.flist.protocol, [this] { maybe_keepalive(); },
                     bp.append);
}

} // namespace ocr::transfer
