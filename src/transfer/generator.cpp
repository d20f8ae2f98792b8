// SPDX-License-Identifier: MIT
// The generator of a push. Order and texts follow upstream generator.c:generate_files,
// recv_generator, itemize and check_for_finished_files; io.c:wait_for_receiver.
#include "transfer/generator.hpp"

#include "protocol/protocol_error.hpp"
#include "protocol/sum_head.hpp"
#include "protocol/wire.hpp"
#include "transfer/basis_sums.hpp"
#include "transfer/file_window.hpp"
#include "transfer/fuzzy_scan.hpp"
#include "transfer/itemize.hpp"
#include "transfer/push_deletion.hpp"
#include "transfer/sender_flist.hpp"
#include "transfer/stat_xattr.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <variant>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::ProtocolError;

// Upstream generate_files' loopchk_limit without a timeout (with one: allowed_lull * 5).
constexpr std::int64_t kLoopCheck = 200;
// Upstream MIN_FILECNT_LOOKAHEAD / 2.
constexpr std::int64_t kHardLinkLookahead = 500;

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

// The list name of a module-relative path (upstream names entries relative to the
// destination directory in its messages).
std::string list_name_of(const PushShared& s, const std::string& rel)
{
    if (s.dest.base.empty())
        return rel.empty() ? std::string(".") : rel;
    if (rel.size() > s.dest.base.size() && rel.compare(0, s.dest.base.size(), s.dest.base) == 0 &&
        rel[s.dest.base.size()] == '/')
        return rel.substr(s.dest.base.size() + 1);
    return rel == s.dest.base ? std::string(".") : rel;
}

// Upstream link_stat -> x_lstat: under "fake super" an entry's user.rsync.%stat record says
// what it is (a malformed one ends the transfer, one that cannot be read is reported).
Errno stat_entry(const PushShared& s, Reporter& report, const std::string& rel, struct stat& st)
{
    if (s.attrs.am_root >= 0)
        return s.stat_path(rel, st);
    StatXattrLookup found;
    const Errno err = s.writer.lstat_fake_super(rel, st, found);
    if (err != 0)
        return err;
    if (found.result == StatXattrLookup::Result::Corrupt)
        throw_corrupt_stat_xattr(s.full_fname(list_name_of(s, rel)), found.raw);
    if (found.result == StatXattrLookup::Result::Failed)
        report.syserr(LogCode::ErrorXfer, found.err,
                      std::string("failed to read xattr ") + kStatXattrName + " for " +
                          s.full_fname(list_name_of(s, rel)));
    return 0;
}

// Upstream rsync.h COMPARE_DEST / COPY_DEST / LINK_DEST.
constexpr int kCompareDest = 1;
constexpr int kCopyDest = 2;
constexpr int kLinkDest = 3;

std::string join_path(const std::string& dir, const std::string& name)
{
    if (name.empty() || name == ".")
        return dir.empty() ? std::string(".") : dir;
    if (dir.empty() || dir == ".")
        return name;
    return dir + "/" + name;
}

// Upstream generator.c:basis_link_stat: an alt-dest candidate is looked at without following
// any symlink (the writer's confined lstat), through its record under "fake super"; a
// record that cannot be read only makes the candidate look as it is on disk.
Errno stat_alt_entry(const PushShared& s, const std::string& rel, struct stat& st)
{
    if (s.attrs.am_root >= 0)
        return s.stat_path(rel, st);
    StatXattrLookup found;
    return s.writer.lstat_fake_super(rel, st, found);
}

// Copies all of @p in to @p out; 0 or the errno.
Errno copy_fd_data(int in, int out)
{
    char buf[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(in, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return 0;
        for (ssize_t off = 0; off < n;) {
            const ssize_t m = ::write(out, buf + off, static_cast<std::size_t>(n - off));
            if (m < 0) {
                if (errno == EINTR)
                    continue;
                return errno;
            }
            off += m;
        }
    }
}

// Upstream util1.c:make_path: every missing directory of @p dir (relative to @p base),
// made with full permissions less the umask; an entry in the way that is not a
// directory stops it.
Errno make_missing_dirs(const ModuleWriter& writer, const std::string& base, std::string_view dir)
{
    std::string path = base;
    std::size_t pos = 0;
    while (pos < dir.size()) {
        const auto slash = dir.find('/', pos);
        const std::string_view part = dir.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        pos = slash == std::string_view::npos ? dir.size() : slash + 1;
        if (part.empty() || part == ".")
            continue;
        if (!path.empty())
            path += '/';
        path.append(part);
        struct stat st{};
        if (writer.lstat(path, st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return ENOTDIR;
            continue;
        }
        if (const Errno err = writer.mkdir(path, 0777); err != 0 && err != EEXIST)
            return err;
    }
    return 0;
}

} // namespace

Generator::Generator(PushShared& shared, Connection& conn, Reporter& report)
    : s_(shared), conn_(conn), report_(report), ndx_out_(shared.opt.flist.protocol)
{
    if (s_.opt.xfer_checksum.kind != protocol::ChecksumKind::None) {
        block_sum_.emplace(s_.opt.xfer_checksum, s_.opt.checksum_seed);
        xfer_sum_len_ = protocol::checksum_length(s_.opt.xfer_checksum.kind);
    }
    // Counted here, before the receiver thread starts: every list it adds later arrives
    // as a ListAdded event, so counting in run() could count one twice.
    visible_lists_ = s_.lists.list_count();
    states_.resize(visible_lists_);
    flist_eof_ = s_.lists.eof();
}

void Generator::write_ndx(std::int32_t ndx)
{
    std::string out;
    ndx_out_.put(out, ndx);
    conn_.write(out);
}

void Generator::send_success(std::int32_t ndx)
{
    // Upstream io.c:send_msg_success as the generator calls it: the entry is in place, so
    // the client (the sender) may remove its copy for --remove-source-files. Never in a
    // dry run (generator.c:recv_generator return_with_success; hlink.c checks do_xfers).
    if (s_.opt.dry_run)
        return;
    std::string payload;
    protocol::put_i32(payload, ndx);
    conn_.send_message(protocol::MsgCode::Success, payload);
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
        // Upstream io.c:got_flist_entry_status: a file the receiver wrote is passed on to
        // the client for --remove-source-files (and --remove-sent-files); a hard-linked
        // file stays in progress until its group is finished (check_for_finished_files).
        if (ev.kind == K::Success && s_.opt.remove_source_files)
            send_success(ev.ndx);
        if (s_.opt.flist.inc_recurse)
            if (ListState* st = state_of(ev.ndx))
                --st->in_progress;
        if (hl_.find(ev.ndx)) {
            hl_pending_.emplace_back(ev.ndx, ev.kind == K::Success);
            bump_in_progress(ev.ndx, 1);
        }
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
        match_hard_links();
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
        if (!hl_pending_.empty()) {
            // Upstream: get_hlink_num, then finish_hard_link or handle_skipped_hlink.
            const auto [ndx, ok] = hl_pending_.front();
            hl_pending_.pop_front();
            const protocol::FileEntry* e = s_.lists.entry_for_ndx(ndx);
            if (e) {
                if (ok)
                    finish_hard_link(ndx, s_.local_path(e->name), nullptr);
                else
                    handle_skipped_hlink(ndx);
            }
            bump_in_progress(ndx, -1);
            continue;
        }
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
        if (dir_tweaking_ && !delay_deleting() && l.parent_dir_ndx >= 0)
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
    if (s_.deletion)
        s_.deletion->before_generating(); // --delete-before
    // Upstream generator.c:generate_files, after the --delete-before pass.
    if (o.debug_flist >= 1)
        report_.emit(LogCode::Info, o.whole_file ? "delta-transmission disabled for local transfer or --whole-file\n"
                                                 : "delta-transmission enabled\n");

    if (o.flist.inc_recurse) {
        cur_ = 0;
        // Upstream's generator reads the sub-lists its receiver forwards only when it has
        // generated every list it read before, and that read flushes what it has written
        // first (io.c:perform_io); one read takes in all the lists forwarded by then. The
        // client's output order (its itemized lines against our messages) follows from
        // that, so lists the receiver thread has published count only once taken in here.
        std::size_t taken = visible_lists_;
        for (;;) {
            // Upstream generate_files: with -H, have a good part of the lists (half of
            // MIN_FILECNT_LOOKAHEAD entries) before generating, so that a group's members
            // in later lists are known when its earlier ones are reached.
            if (o.flist.preserve_hard_links && !flist_eof_ && s_.lists.total_entries() < kHardLinkLookahead) {
                while (!flist_eof_ && s_.lists.total_entries() < kHardLinkLookahead)
                    wait_for_receiver();
                taken = visible_lists_;
            }
            generate_list(*cur_);
            for (;;) {
                check_for_finished_files(true);
                if (*cur_ + 1 < taken)
                    break;
                if (*cur_ + 1 < visible_lists_) {
                    conn_.flush();
                    // The lists of one burst from the sender are one read for upstream;
                    // let the receiver thread finish publishing what has arrived. Only
                    // deletions made while generating are ordered by it (their lines against
                    // the client's itemized ones), and the pause costs up to 5 ms per catch-up,
                    // so other pushes do not wait.
                    while (!flist_eof_ && s_.deletion && s_.deletion->during())
                        if (auto ev = s_.channel.take(std::chrono::milliseconds(5)))
                            handle_event(*ev);
                        else
                            break;
                    taken = visible_lists_;
                    break;
                }
                if (flist_eof_)
                    break;
                wait_for_receiver();
            }
            if (*cur_ + 1 < taken) {
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
    const bool early_delete_done = !s_.deletion || s_.deletion->early_done();
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
    if (protocol >= 31 && early_delete_done) {
        if (s_.deletion)
            s_.deletion->write_del_stats(); // Upstream: main.c:write_del_stats
        if (early_delay_done)
            write_ndx(protocol::kNdxDone);
    }
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
    if (s_.deletion)
        s_.deletion->after_phases(); // --delete-delay, --delete-after, the --max-delete warning
    if (protocol >= 31) {
        if (!early_delete_done) {
            if (s_.deletion)
                s_.deletion->write_del_stats();
            write_ndx(protocol::kNdxDone);
        }
        while (msgdone_ == 3)
            wait_for_receiver();
    }
    if (dir_tweaking_ && (!o.flist.inc_recurse || delay_deleting()))
        for (const protocol::FileEntry* d : dirs_to_touch_)
            touch_up_dir(*d);
}

bool Generator::delay_deleting() const noexcept
{
    // Upstream delete_during == 2: directory times are fixed after the delayed deletions.
    return s_.deletion && s_.deletion->during() && s_.opt.delete_during == 2;
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

void Generator::match_hard_links()
{
    // Upstream's receiver matches each list as it arrives, so a group's later lists can
    // take the "last" mark from a member the generator has not reached yet.
    if (!s_.opt.flist.preserve_hard_links)
        return;
    while (hl_matched_ < visible_lists_)
        hl_.match_list(s_.lists.list(hl_matched_++), s_.opt.flist.inc_recurse);
}

void Generator::bump_in_progress(std::int32_t ndx, int delta)
{
    if (!s_.opt.flist.inc_recurse)
        return;
    if (const auto li = s_.lists.list_for_ndx(ndx); li && *li < states_.size())
        states_[*li].in_progress += delta;
}

void Generator::generate_list(std::size_t li)
{
    match_hard_links();
    const protocol::DecodedList& l = s_.lists.list(li);
    if (s_.opt.flist.inc_recurse && l.parent_dir_ndx >= 0)
        if (const protocol::FileEntry* d = s_.lists.dir_entry(l.parent_dir_ndx))
        {
            recv_generator(*d, l.ndx_start - 1, 1, false);
            if (s_.deletion)
                s_.deletion->in_dir(*d, li, missing_dir_.count(d) != 0); // --delete-during/-delay
        }
    for (std::int64_t i = static_cast<std::int64_t>(l.low); i <= l.high; ++i) {
        const protocol::FileEntry& e = l.entries[static_cast<std::size_t>(i)];
        if (!e.active)
            continue;
        const auto ndx = static_cast<std::int32_t>(l.ndx_start + i);
        const int is_dir = !protocol::is_dir(e.mode) ? 0 : s_.opt.flist.inc_recurse ? -1 : 1;
        recv_generator(e, ndx, is_dir, false);
        check_for_finished_files(false);
        loop_check(ndx);
    }
}

void Generator::loop_check(std::int32_t ndx)
{
    const std::int64_t timeout = conn_.io_timeout().count();
    if (ndx < next_loopchk_)
        return;
    next_loopchk_ += timeout > 0 ? (timeout + 1) / 2 * 5 : kLoopCheck;
    if (timeout > 0) {
        maybe_keepalive(); // maybe_send_keepalive(MSK_ALLOW_FLUSH)
        return;
    }
    // maybe_flush_socket(0): upstream notes its last write only under a timeout
    // (io.c:perform_io), so without one it flushes at every check once the whole list is
    // in. The client then shows the items so far ahead of later "deleting" lines. With
    // incremental lists upstream's generator learns of the end only when it reads its
    // receiver's MSG_FLIST_EOF, a moment our threads do not reproduce; flushing on our own
    // earlier knowledge put messages behind items the client printed (-v --safe-links), so
    // there the list-settling in run() keeps deciding.
    if (flist_eof_ && !s_.opt.flist.inc_recurse)
        conn_.flush();
}

int Generator::maybe_attrs_report() const noexcept
{
    // Upstream generator.c:generate_files sets maybe_ATTRS_REPORT unless the client
    // itemizes; a daemon below protocol 29 sets it whatever the client does.
    return s_.opt.flist.protocol < 29 || !s_.opt.stdout_format_has_i ? kAttrsReport : 0;
}

AttrOutcome Generator::set_attrs(const protocol::FileEntry& e, const std::string& rel, std::uint32_t mode,
                                 const struct stat* st, int flags, bool dir_created)
{
    AttrTarget t = s_.target_for(e, mode);
    t.dir_created = dir_created;
    if (protocol::is_device(e.mode)) {
        t.rdev_major = e.rdev_major;
        t.rdev_minor = e.rdev_minor;
    }
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
    if (out.time_failed)
        time_failed_.insert(&e);
    // Upstream rsync.c:set_file_attrs ends with this report (to the client only), which
    // its error exits skip.
    if ((flags & kAttrsReport) && s_.opt.info_name >= 2 && out.ok)
        report_.emit(LogCode::Client, out.updated ? e.name + "\n" : e.name + " is uptodate\n");
    return out;
}

bool Generator::delete_item(const std::string& rel, const struct stat& st, std::uint32_t new_mode)
{
    // Upstream delete.c:delete_item with DEL_FOR_* for an entry in the way of a new one
    // (with -b a replaced non-directory is backed up instead); see transfer/push_deletion.
    return s_.deletion && s_.deletion->make_room(rel, st, new_mode);
}

void Generator::itemize(const protocol::FileEntry& e, std::uint32_t mode, std::int32_t ndx, int statret,
                        const struct stat* st, std::uint32_t iflags, std::uint8_t basis_type,
                        const std::string& xname)
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
        c.owner_differs = o.preserve_uid && o.am_root != 0 && s_.lists.local_uid(e.uid) != st->st_uid;
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
    c.has_xname = !xname.empty();
    const std::uint32_t flags = compute_item_flags(c);
    // Upstream: a hard link made to its leader ("=> NAME") is reported even when nothing
    // else about the entry changed.
    if (!item_is_reported(flags, o.info_name, o.stdout_format_has_i, c.has_xname))
        return;
    if (o.flist.protocol >= 29) {
        std::string out;
        if (ndx >= 0)
            ndx_out_.put(out, ndx);
        protocol::put_u16(out, static_cast<std::uint16_t>(flags));
        if (flags & kItemBasisTypeFollows)
            out.push_back(static_cast<char>(basis_type));
        if (flags & kItemXnameFollows)
            protocol::put_vstring(out, xname);
        conn_.write(out);
    } else if (ndx >= 0 && s_.log_item && o.logfile_format_has_i && !o.dry_run) {
        // Below 29 the daemon logs the item itself (log_item with FINFO / FCLIENT).
        s_.log_item(PushLogItem{&e, mode, flags, 0, {}, {}, false, {}, xname});
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

bool Generator::attrs_unchanged(const protocol::FileEntry& e, std::uint32_t mode, const struct stat& st)
{
    // Upstream generator.c:unchanged_attrs for a regular file: times (-t), permissions and
    // ownership as itemize() would report them.
    const ReceiverOptions& o = s_.opt;
    if (S_ISLNK(st.st_mode)) {
        // Linux can set a symlink's times and owner, not its permissions.
        if (o.preserve_mtimes && !o.omit_link_times && mtime_differs(st, e, o.modify_window))
            return false;
    } else {
        if (o.preserve_mtimes && mtime_differs(st, e, o.modify_window))
            return false;
        if (o.preserve_perms && (st.st_mode & 07777) != (mode & 07777))
            return false;
        if (o.preserve_executability && ((st.st_mode & 0111) != 0) != ((mode & 0111) != 0))
            return false;
    }
    if (o.preserve_uid && o.am_root != 0 && s_.lists.local_uid(e.uid) != st.st_uid)
        return false;
    if (o.preserve_gid) {
        const auto gid = s_.lists.local_gid(e.gid);
        if (gid && *gid != st.st_gid)
            return false;
    }
    return true;
}

bool Generator::copy_altdest_file(const std::string& from_rel, const std::string& rel, const protocol::FileEntry& e,
                                  std::uint32_t mode)
{
    // Upstream generator.c:copy_altdest_file: util1.c:copy_file into a temp file beside the
    // destination, then rsync.c:finish_transfer (attributes, then the rename).
    const std::string full = s_.full_fname(e.name);
    Errno err = 0;
    UniqueFd in = s_.writer.open_read(from_rel, err);
    std::optional<TempFile> temp;
    if (in)
        temp = s_.writer.create_temp(rel, s_.temp_dir, err, mode & 07777);
    if (temp)
        err = copy_fd_data(in.get(), temp->fd.get());
    if (!in || !temp || err != 0) {
        if (temp)
            s_.writer.discard(*temp);
        return false;
    }
    auto on_error = [this](int code, const std::string& text) { report_.syserr(LogCode::ErrorXfer, code, text); };
    const AttrTarget target = s_.target_for(e, mode);
    struct stat tst{};
    (void)::fstat(temp->fd.get(), &tst);
    (void)set_file_attrs(s_.writer, rel, temp->fd.get(), target, &tst, s_.attrs, kAttrsAccurateTime, full, on_error);
    bool copied = false;
    const std::string temp_name = temp->name;
    if (const Errno rerr = s_.writer.rename_into_place(*temp, rel, copied); rerr != 0) {
        report_.syserr(LogCode::ErrorXfer, rerr, "rename " + s_.full_fname(temp_name) + " -> \"" + rel + "\"");
        s_.writer.discard(*temp);
        return false;
    }
    if (copied)
        (void)set_file_attrs(s_.writer, rel, -1, target, nullptr, s_.attrs, kAttrsAccurateTime, full, on_error);
    return true;
}

int Generator::try_dests_reg(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel,
                             std::uint32_t mode, const struct stat* real_st, std::string& cmp_rel,
                             struct stat& cmp_st)
{
    // Upstream generator.c:try_dests_reg: the best candidate over all basis dirs (a regular
    // file; then one passing the quick check; then one with the same attributes too).
    const ReceiverOptions& o = s_.opt;
    const std::string name = list_name_of(s_, rel);
    int best = -1;
    int level = 0;
    for (std::size_t j = 0; j < basis_dirs_.size(); ++j) {
        const std::string cand = join_path(basis_dirs_[j], name);
        struct stat cst{};
        if (stat_alt_entry(s_, cand, cst) != 0 || !S_ISREG(cst.st_mode))
            continue;
        if (level == 0) {
            best = static_cast<int>(j);
            level = 1;
        }
        if (!quick_check_ok(e, cand, cst))
            continue;
        if (level == 1) {
            best = static_cast<int>(j);
            level = 2;
        }
        if (attrs_unchanged(e, mode, cst)) {
            best = static_cast<int>(j);
            level = 3;
            break;
        }
    }
    if (level == 0)
        return -1;
    cmp_rel = join_path(basis_dirs_[static_cast<std::size_t>(best)], name);
    if (stat_alt_entry(s_, cmp_rel, cmp_st) != 0)
        return -1;
    const bool attrs_report = maybe_attrs_report() != 0;
    bool copy = false;
    if (level == 3 && o.alt_dest_type != kCopyDest) {
        if (real_st) {
            if (o.alt_dest_type == kLinkDest && real_st->st_dev == cmp_st.st_dev && real_st->st_ino == cmp_st.st_ino)
                return -1;
            if (const Errno err = s_.writer.unlink(rel); err != 0 && err != ENOENT)
                return -1;
        }
        if (o.alt_dest_type == kLinkDest) {
            // Upstream hlink.c:hard_link_one, terse: a failure is only mentioned with -v,
            // and the file is copied instead.
            const Errno lerr = o.dry_run ? 0 : s_.writer.link(cmp_rel, rel);
            if (lerr != 0) {
                if (o.info_name >= 1)
                    report_.syserr(LogCode::Info, lerr,
                                   "link " + s_.full_fname(e.name) + " => " + join_path(basis_dirs_[static_cast<std::size_t>(best)], name) + " failed");
                copy = true;
            } else {
                if (hl_.find(ndx))
                    finish_hard_link(ndx, rel, &cmp_st);
                if (!attrs_report && (o.info_name >= 2 || o.stdout_format_has_i > 1))
                    itemize(e, mode, ndx, 0, &cmp_st, kItemLocalChange | kItemXnameFollows);
            }
        } else {
            itemize(e, mode, ndx, 0, &cmp_st, 0);
        }
        if (!copy) {
            if (o.info_name >= 2 && attrs_report)
                report_.emit(LogCode::Client, e.name + " is uptodate\n");
            return -2;
        }
    }
    if (!copy && real_st)
        return -1;
    if (copy || level >= 2) {
        if (!o.dry_run && !copy_altdest_file(cmp_rel, rel, e, mode))
            return -1;
        itemize(e, mode, ndx, 0, &cmp_st, kItemLocalChange);
        if (attrs_report && o.info_name >= 2 && level == 3)
            report_.emit(LogCode::Client, e.name + " is uptodate\n");
        if (hl_.find(ndx))
            finish_hard_link(ndx, rel, nullptr);
        return -2;
    }
    return best;
}

int Generator::try_dests_non(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel,
                             std::uint32_t mode, struct stat& alt_st)
{
    // Upstream generator.c:try_dests_non: the same search as for a regular file, where the
    // quick check compares a symlink's target or a device's numbers.
    const ReceiverOptions& o = s_.opt;
    const std::string name = list_name_of(s_, rel);
    const std::uint32_t type = e.mode & S_IFMT;
    const dev_t rdev = protocol::is_device(e.mode) ? makedev(e.rdev_major, e.rdev_minor) : 0;
    auto same_content = [&](const std::string& cand, const struct stat& cst) {
        if (S_ISLNK(cst.st_mode)) {
            const auto now = o.am_root < 0 ? s_.writer.read_fake_symlink(cand) : s_.read_link(cand);
            return now && *now == s_.stored_target(e);
        }
        if (S_ISCHR(cst.st_mode) || S_ISBLK(cst.st_mode))
            return cst.st_rdev == rdev;
        return true;
    };
    int best = -1;
    int level = 0;
    for (std::size_t j = 0; j < basis_dirs_.size(); ++j) {
        const std::string cand = join_path(basis_dirs_[j], name);
        struct stat cst{};
        if (stat_alt_entry(s_, cand, cst) != 0 || (cst.st_mode & S_IFMT) != type)
            continue;
        if (level < 1) {
            level = 1;
            best = static_cast<int>(j);
        }
        if (!same_content(cand, cst))
            continue;
        if (level < 2) {
            level = 2;
            best = static_cast<int>(j);
        }
        if (attrs_unchanged(e, mode, cst)) {
            level = 3;
            best = static_cast<int>(j);
            break;
        }
    }
    if (level == 0)
        return -1;
    const std::string cmp_rel = join_path(basis_dirs_[static_cast<std::size_t>(best)], name);
    if (stat_alt_entry(s_, cmp_rel, alt_st) != 0)
        return -1;
    if (level < 3)
        return best;
    bool cannot_hardlink = false;
    if (o.alt_dest_type == kLinkDest && !protocol::is_dir(e.mode)) {
        // Upstream: a link the destination refuses falls back to making the entry.
        if (!o.dry_run && s_.writer.link(cmp_rel, rel) != 0) {
            cannot_hardlink = true;
            level = 2;
        } else if (hl_.find(ndx)) {
            finish_hard_link(ndx, rel, nullptr);
        }
    } else {
        level = 2;
    }
    if (o.stdout_format_has_i && (o.info_name >= 2 || o.stdout_format_has_i > 1)) {
        const std::uint32_t chg = o.alt_dest_type == kCompareDest && !protocol::is_dir(e.mode)
                                      ? 0
                                      : kItemLocalChange | (level == 3 ? kItemXnameFollows : 0);
        itemize(e, mode, ndx, 0, &alt_st, chg | kItemMatched);
    }
    if (o.info_name >= 2 && !o.stdout_format_has_i)
        report_.emit(LogCode::Client, e.name + (protocol::is_dir(e.mode) ? "/" : "") + " is uptodate\n");
    return cannot_hardlink ? -3 : -2;
}

Generator::AltNonRegular Generator::consult_alt_dests_non(const protocol::FileEntry& e, std::int32_t ndx,
                                                          const std::string& rel, std::uint32_t mode, int statret,
                                                          struct stat& alt_st)
{
    AltNonRegular out;
    if (statret == 0 || basis_dirs_.empty())
        return out;
    const int j = try_dests_non(e, ndx, rel, mode, alt_st);
    if (j == -3) {
        out.reporting = false; // matched but not linked: made below, silently
    } else if (j == -2) {
        // Linked (or nothing to do); --copy-dest still makes the entry, silently.
        out.stop = s_.opt.alt_dest_type != kCopyDest;
        out.reporting = false;
    } else if (j >= 0) {
        out.shown = &alt_st;
    }
    return out;
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
        fuzzy_dirs_.clear(); // upstream parent_is_dry_missing
    } else {
        dry_missing_dir_.clear();
        const auto slash = e.name.rfind('/');
        const std::string_view dn = slash == std::string::npos ? std::string_view(".")
                                                               : std::string_view(e.name).substr(0, slash);
        bool parent_dry_missing = false;
        if (dn != parent_dirname_) {
            if (!o.flist.inc_recurse && dn != "." && dn != prior_dir_name_)
                check_parent_listed(e, dn);
            parent_dirname_.assign(dn);
            // Upstream: the fuzzy candidates are listed again, when first needed, for
            // each new parent directory.
            fuzzy_dirs_.clear();
            need_fuzzy_dirs_ = o.fuzzy_basis > 0;
            // Upstream: with -R --no-implied-dirs a parent the sender did not list is made
            // here (util1.c:make_path), or counts as missing in a dry run.
            struct stat pst{};
            if (o.relative_paths && !o.implied_dirs && e.mode != 0 &&
                s_.stat_path(s_.local_path(dn), pst) != 0) {
                if (o.dry_run) {
                    parent_dry_missing = true;
                    parent_dirname_.clear();
                } else if (const Errno err = make_missing_dirs(s_.writer, s_.dest.base, dn); err != 0) {
                    report_.syserr(LogCode::ErrorXfer, err,
                                   "recv_generator: mkdir " + s_.full_fname(std::string(dn)) + " failed");
                }
            }
        }
        if (!parent_dry_missing) {
            stat_errno = stat_entry(s_, report_, rel, st);
            statret = stat_errno == 0 ? 0 : -1;
        }
    }

    // Upstream generator.c:recv_generator: a --delete-missing-args entry (sent with mode 0
    // for an argument missing on the client) deletes what has its name here.
    if (o.flist.delete_missing_args && e.mode == 0) {
        if (statret == 0 && s_.deletion)
            s_.deletion->delete_missing_arg(rel, st);
        return;
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
    // Upstream generator.c:recv_generator asks hard_link_check about every non-directory
    // member of a group but its leader, whatever its type: symlinks, devices and specials
    // are linked to their group's leader like files.
    if (const HardLinkState* h = hl_.find(ndx); h && !h->first && hard_link_check(e, ndx, rel, statret, st))
        return;
    if (o.preserve_links && protocol::is_symlink(e.mode)) {
        // Upstream generator.c:recv_generator: --safe-links drops a symlink whose target
        // leaves the transfer, judged from where it would be made (a solo file's own
        // destination name). The target is the one the receiver stored (F_SYMLINK), which a
        // munging module has already made absolute, so there every symlink is dropped.
        if (o.safe_links) {
            const std::string where =
                s_.dest.solo_file ? std::string(list_name_of(s_, *s_.dest.solo_file)) : e.name;
            const std::string target = s_.stored_target(e);
            if (unsafe_symlink(target, where)) {
                if (o.info_name >= 1)
                    report_.emit(LogCode::Info,
                                 "ignoring unsafe symlink \"" + e.name + "\" -> \"" + target + "\"\n");
                return;
            }
        }
        gen_symlink(e, rel, ndx, statret, st);
        return;
    }
    // Upstream tests am_root, which "fake super" (-1) passes: its devices are stand-ins.
    if ((o.am_root != 0 && o.preserve_devices && protocol::is_device(e.mode)) ||
        (o.preserve_specials && protocol::is_special(e.mode))) {
        gen_special(e, rel, ndx, statret, st);
        return;
    }
    if (!protocol::is_regular(e.mode)) {
        // Upstream generator.c:recv_generator: an entry this run does not make (a symlink
        // without -l, a device or special without -D) is reported, by its list name.
        if (o.info_nonreg >= 1)
            report_.emit(LogCode::Info, "skipping non-regular file \"" + e.name + "\"\n");
        return;
    }
    if (statret != 0 && stat_errno != ENOENT) {
        report_.syserr(LogCode::ErrorXfer, stat_errno, "recv_generator: failed to stat " + s_.full_fname(e.name));
        return;
    }
    gen_file(e, rel, ndx, statret, st, redo);
}

void Generator::check_parent_listed(const protocol::FileEntry& e, std::string_view dn)
{
    // Upstream generator.c:recv_generator: without incremental lists every parent must be
    // a directory of the list, or the sender is making paths up (a name "through" a
    // symlink it sent, say).
    if (!listed_dirs_) {
        listed_dirs_.emplace();
        for (std::size_t li = 0; li < s_.lists.list_count(); ++li)
            for (const protocol::FileEntry& f : s_.lists.list(li).entries)
                listed_dirs_->emplace(f.name, f.mode);
    }
    const auto it = listed_dirs_->find(std::string(dn));
    bool ok = false;
    if (it != listed_dirs_->end())
        ok = protocol::is_dir(it->second) || (s_.opt.flist.delete_missing_args && e.mode == 0 && it->second == 0);
    if (ok)
        return;
    if (s_.opt.flist.delete_missing_args && e.mode == 0 && it == listed_dirs_->end()) {
        report_.emit(LogCode::Error, "WARNING: parent dir is absent in the file list: " + std::string(dn) + "\n");
        return;
    }
    const auto slash = e.name.rfind('/');
    throw ProtocolError(ExitCode::Protocol,
                        "ABORTING due to invalid path from sender: " + std::string(dn) + "/" +
                            e.name.substr(slash == std::string::npos ? 0 : slash + 1),
                        protocol::UpstreamSite{"generator.c", 1715});
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
        if (statret == 0 && (S_ISDIR(st.st_mode) || !delete_item(rel, st, e.mode)))
            return;
        if (o.dry_run || s_.writer.mkdir(rel, (mode | added) & 0700) == 0)
            dir_created_.insert(&e);
        return;
    }
    if (statret == 0 && !S_ISDIR(st.st_mode)) {
        if (!delete_item(rel, st, e.mode)) {
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
    // Upstream: a matching directory of an alt-dest dir is what a new one is compared with.
    bool reporting = true;
    struct stat alt_st{};
    if (statret != 0 && !basis_dirs_.empty()) {
        const int j = try_dests_non(e, ndx, rel, mode, alt_st);
        if (j == -2)
            reporting = false;
        if (j == -2 || j >= 0)
            statret = 1;
    }
    if (reporting)
        itemize(e, mode, ndx, statret, statret == 0 ? &st : statret == 1 ? &alt_st : nullptr,
                statret != 0 ? kItemLocalChange : 0);
    if (real_ret != 0 && !o.dry_run && !rel.empty()) {
        const Errno err = s_.writer.mkdir(rel, mode | added);
        if (err != 0 && err != EEXIST) {
            report_.syserr(LogCode::ErrorXfer, err, "recv_generator: mkdir " + s_.full_fname(e.name) + " failed");
            report_.emit(LogCode::Error, "*** Skipping any contents from this failed directory ***\n");
            skip_dir_ = &e;
            skip_dir_name_ = e.name;
            missing_dir_.insert(&e);
            return;
        }
    }
    const AttrOutcome out = set_attrs(e, rel, mode, real_ret != 0 ? nullptr : &real_st, 0, created);
    if (const auto code = name_code(); reporting && out.updated && o.info_name >= 1 && code)
        report_.emit(*code, e.name + "/\n");
    if (o.am_root == 0 && (mode & S_IRWXU) != S_IRWXU && dir_tweaking_) {
        // Keep the directory usable while its contents are written; touch_up_dir restores it.
        const Errno err = rel.empty() ? 0 : s_.writer.chmod(rel, (mode | S_IRWXU) & 07777);
        if (err != 0)
            report_.syserr(LogCode::ErrorXfer, err, "failed to modify permissions on " + s_.full_fname(e.name));
        need_retouch_dir_perms_ = true;
    }
    if (dir_tweaking_)
        dirs_to_touch_.push_back(&e);
    prior_dir_name_ = e.name;
    if (s_.deletion && !o.flist.inc_recurse && phase_ == 0)
        s_.deletion->in_dir(e, 0, missing_dir_.count(&e) != 0); // --delete-during/-delay
}

std::optional<LogCode> Generator::name_code() const
{
    // Upstream generator.c:generate_files picks where the name of an entry it makes goes.
    // From protocol 29 the client itemizes it, so the daemon only logs it (FLOG), or not
    // at all when its own log format itemizes. Below 29 the client learns it from us:
    // FINFO (client and log), or the client alone (FCLIENT) when the log itemizes or in
    // a dry run (do_xfers off).
    const ReceiverOptions& o = s_.opt;
    if (o.flist.protocol >= 29)
        return o.logfile_format_has_i ? std::nullopt : std::optional<LogCode>(LogCode::Log);
    const bool do_xfers = !o.dry_run;
    const bool itemizing = o.logfile_format_has_i && do_xfers;
    return itemizing || !do_xfers ? LogCode::Client : LogCode::Info;
}

void Generator::touch_up_dir(const protocol::FileEntry& e)
{
    // Upstream generator.c:touch_up_dirs for one directory.
    const ReceiverOptions& o = s_.opt;
    if (missing_dir_.count(&e) || (!o.implied_dirs && e.implied_dir))
        return;
    const std::string rel = s_.local_path(e.name);
    std::uint32_t mode = s_.entry_mode(e);
    struct stat st{};
    if (stat_entry(s_, report_, rel, st) != 0 || !S_ISDIR(st.st_mode))
        return;
    if (!o.preserve_perms)
        mode = dest_mode(mode, st.st_mode, s_.default_perms(), true, o.preserve_executability);
    if (need_retouch_dir_perms_ && o.am_root == 0 && (mode & 07777) != (st.st_mode & 07777) && !rel.empty())
        if (s_.writer.chmod(rel, mode & 07777) == 0)
            st.st_mode = (st.st_mode & ~07777u) | (mode & 07777);
    if (o.preserve_mtimes && !o.omit_dir_times && mtime_differs(st, e, o.modify_window)) {
        // Upstream gen_entry_set_times -> set_times: a failure here is not reported (a
        // module root the module's user does not own cannot take its time, and upstream
        // stays quiet and exits 0).
        struct timespec ts{};
        ts.tv_sec = static_cast<time_t>(e.mtime);
        ts.tv_nsec = o.flist.protocol >= 31 ? static_cast<long>(e.mtime_nsec) : 0;
        (void)s_.writer.set_times(rel, ts, std::nullopt);
    }
}

void Generator::gen_symlink(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int statret,
                            const struct stat& st)
{
    const ReceiverOptions& o = s_.opt;
    const std::string target = s_.stored_target(e);
    const std::uint32_t mode = e.mode;
    if (statret == 0 && S_ISLNK(st.st_mode)) {
        // Under "fake super" the symlink is a regular file holding its target.
        const auto now = o.am_root < 0 ? s_.writer.read_fake_symlink(rel) : s_.read_link(rel);
        if (now && *now == target) {
            (void)set_attrs(e, rel, mode, &st, maybe_attrs_report());
            itemize(e, mode, ndx, 0, &st, 0);
            if (hl_.find(ndx))
                finish_hard_link(ndx, rel, &st); // the group's leader from now on
            // Upstream generator.c:recv_generator: an unchanged link is "sent" for
            // --remove-source-files only (not the old --remove-sent-files).
            if (o.remove_source_files == 1)
                send_success(ndx);
            return;
        }
    }
    int shown_ret = (statret == 0 && !S_ISLNK(st.st_mode)) ? -1 : statret;
    const struct stat* shown_st = &st;
    struct stat alt_st{};
    const AltNonRegular alt = consult_alt_dests_non(e, ndx, rel, mode, statret, alt_st);
    if (alt.stop)
        return;
    const bool reporting = alt.reporting;
    if (alt.shown) {
        shown_ret = 1;
        shown_st = alt.shown;
    }
    if (!o.dry_run) {
        auto make = [&](const std::string& name) {
            return o.am_root < 0 ? s_.writer.fake_symlink(target, name) : s_.writer.symlink(target, name);
        };
        if (!atomic_create(e, rel, statret, &st, make, "symlink " + s_.full_fname(e.name) + " -> \"" + target + "\" failed"))
            return;
    }
    (void)set_attrs(e, rel, mode, nullptr, 0);
    if (reporting)
        itemize(e, mode, ndx, shown_ret, shown_st, kItemLocalChange | kItemReportChange);
    if (const auto code = name_code(); reporting && o.info_name >= 1 && code)
        report_.emit(*code, e.name + " -> " + target + "\n"); // upstream logs F_SYMLINK (munged)
    if (hl_.find(ndx))
        finish_hard_link(ndx, rel, nullptr);
    // Upstream generator.c:recv_generator: a made symlink counts for --remove-sent-files too.
    if (o.remove_source_files)
        send_success(ndx);
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
            (void)set_attrs(e, rel, mode, &st, maybe_attrs_report());
            itemize(e, mode, ndx, 0, &st, 0);
            if (hl_.find(ndx))
                finish_hard_link(ndx, rel, &st);
            if (o.remove_source_files == 1)
                send_success(ndx); // upstream generator.c:recv_generator
            return;
        }
    }
    int shown = statret == 0 && (st.st_mode & S_IFMT) != (e.mode & S_IFMT) ? -1 : statret;
    const struct stat* shown_st = &st;
    struct stat alt_st{};
    const AltNonRegular alt = consult_alt_dests_non(e, ndx, rel, mode, statret, alt_st);
    if (alt.stop)
        return;
    const bool reporting = alt.reporting;
    if (alt.shown) {
        shown = 1;
        shown_st = alt.shown;
    }
    if (!o.dry_run) {
        const int backed = statret == 0 && s_.deletion ? s_.deletion->backup_in_way(rel, st, false) : 0; // -b
        if (backed < 0)
            return;
        if (statret == 0 && backed == 0 && !delete_item(rel, st, e.mode))
            return;
        const Errno err =
            o.am_root < 0 ? s_.writer.fake_mknod(rel) : s_.writer.mknod(rel, mode & (S_IFMT | 07777), rdev);
        if (err != 0) {
            if (S_ISSOCK(e.mode) && (err == EOPNOTSUPP || err == ENOSYS)) {
                report_.emit(LogCode::Warning, "skipping socket (creation unsupported here): " + s_.full_fname(e.name) + "\n");
                return;
            }
            report_.syserr(LogCode::ErrorXfer, err, "mknod " + s_.full_fname(e.name) + " failed");
            return;
        }
    }
    (void)set_attrs(e, rel, mode, nullptr, 0);
    if (reporting)
        itemize(e, mode, ndx, shown, shown_st, kItemLocalChange | kItemReportChange);
    // Upstream generator.c:recv_generator names a made device or special in the daemon log
    // (FLOG) with -v, as it does a symlink.
    if (const auto code = name_code(); reporting && o.info_name >= 1 && code)
        report_.emit(*code, e.name + "\n");
    if (hl_.find(ndx))
        finish_hard_link(ndx, rel, nullptr);
    if (o.remove_source_files == 1)
        send_success(ndx); // upstream generator.c:recv_generator: a made device or special
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
        if (!delete_item(rel, st, e.mode))
            return;
        statret = -1;
    }
    // Upstream: an alt-dest dir may settle the file, or give the basis of a missing one.
    std::string alt_rel;
    int alt_type = -1;
    if (!basis_dirs_.empty() && (statret != 0 || o.alt_dest_type != kCopyDest)) {
        struct stat cmp_st{};
        const int j = try_dests_reg(e, ndx, rel, mode, statret == 0 ? &st : nullptr, alt_rel, cmp_st);
        if (j == -2) {
            if (o.remove_source_files == 1)
                send_success(ndx); // upstream generator.c:recv_generator: settled by an alt-dest
            return;
        }
        if (j >= 0) {
            alt_type = j;
            st = cmp_st;
            statret = 0;
        }
    }
    const struct stat real_st = st;
    const int real_ret = statret;
    // Upstream: a regular file left in the --partial-dir by an earlier run is the basis.
    std::optional<std::string> partial = s_.partial_path(rel, e.name);
    struct stat partial_st{};
    if (partial && !(s_.writer.lstat(*partial, partial_st) == 0 && S_ISREG(partial_st.st_mode)))
        partial.reset();
    std::string basis_rel = alt_type >= 0 ? alt_rel : rel;
    std::uint8_t basis_type = alt_type >= 0 ? static_cast<std::uint8_t>(alt_type) : kBasisFname;
    // Upstream generator.c:recv_generator: a missing file without a partial one may get a
    // similar file as its basis (find_fuzzy); its size is what the sums describe.
    std::string fuzzy_name;
    if (statret != 0 && !partial && o.fuzzy_basis > 0) {
        if (const auto f = find_fuzzy(e, rel)) {
            basis_rel = f->path;
            basis_type = static_cast<std::uint8_t>(kBasisFuzzy + f->dir);
            fuzzy_name = f->name;
            st.st_size = static_cast<off_t>(f->size);
            statret = 0;
        }
    }
    UniqueFd basis;
    if (statret == 0 || partial) {
        if (statret == 0) {
            // An alt-dest or fuzzy basis is never up to date (upstream skips the quick
            // check for them).
            if (alt_type < 0 && fuzzy_name.empty() && !redo && quick_check_ok(e, rel, st)) {
                if (partial) {
                    // A partial file is stale once the file itself is up to date.
                    (void)s_.writer.unlink(*partial);
                    s_.remove_partial_dir(*partial);
                }
                (void)set_attrs(e, rel, mode, &st, maybe_attrs_report() |
                                                       (o.always_checksum ? kAttrsAccurateTime : 0));
                itemize(e, mode, ndx, statret, &st, 0);
                if (hl_.find(ndx))
                    finish_hard_link(ndx, rel, &st);
                // Upstream generator.c:recv_generator return_with_success: an up-to-date
                // file is as good as sent for --remove-source-files.
                if (o.remove_source_files == 1)
                    send_success(ndx);
                return;
            }
            if (!redo && o.append_mode > 0 && st.st_size >= e.size)
                return;
        }
        if (partial) {
            st = partial_st;
            basis_rel = *partial;
            basis_type = kBasisPartialDir;
            statret = 0;
        }
        if (!o.dry_run && !o.whole_file) {
            // Upstream: a file about to change is no fuzzy basis for a later one.
            if (!fuzzy_dirs_.empty())
                mark_fuzzy_sent(e.name);
            Errno err = 0;
            basis = s_.writer.open_read(basis_rel, err);
            if (!basis) {
                report_.syserr(LogCode::Error, err,
                               "failed to open " + s_.full_fname(basis_type == kBasisFname ? e.name : basis_rel) +
                                   ", continuing");
                statret = -1;
            }
        }
    }

    // Upstream generator.c:recv_generator (back_file): with --inplace -b the file's old
    // contents are copied to its backup before the sender is asked for the file; a backup
    // that fails leaves the file alone. The "backed up" line comes after the sums.
    std::optional<std::string> inplace_backup;
    if (statret == 0 && o.inplace && o.make_backups && basis_type == kBasisFname && !o.dry_run && s_.deletion) {
        inplace_backup = s_.deletion->backup_for_inplace(rel);
        if (!inplace_backup)
            return;
    }
    auto announce_backup = [&] {
        if (inplace_backup)
            s_.deletion->announce_inplace_backup(rel, *inplace_backup);
    };

    // Upstream: a member of a hard-link group that is not its last waits for the last
    // one to arrive, then becomes a link to it (finish_hard_link).
    if (statret != 0)
        if (HardLinkState* h = hl_.find(ndx); h && !h->last) {
            bump_in_progress(ndx, 1);
            return;
        }

    // notify_others: request the file.
    if (HardLinkState* h = hl_.find(ndx))
        h->sent = true;
    if (o.flist.inc_recurse && !o.dry_run) {
        if (const auto li = s_.lists.list_for_ndx(ndx); li && *li < states_.size())
            ++states_[*li].in_progress;
    }
    write_ndx(ndx);
    std::uint32_t iflags = kItemTransfer;
    if (o.always_checksum)
        iflags |= kItemReportChange;
    if (basis_type != kBasisFname)
        iflags |= kItemBasisTypeFollows;
    if (basis_type >= kBasisFuzzy)
        iflags |= kItemXnameFollows;
    itemize(e, mode, -1, real_ret, real_ret == 0 ? &real_st : nullptr, iflags, basis_type, fuzzy_name);
    if (o.dry_run) {
        if (hl_.find(ndx))
            finish_hard_link(ndx, rel, nullptr);
        return;
    }

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
        announce_backup();
        return;
    }
    const auto head = choose_sum_head_checked(st.st_size, bp);
    if (!head) {
        report_.emit(LogCode::Warning, "WARNING: file is too large for checksum sending: " + e.name + "\n");
        protocol::put_sum_head(h, protocol::SumHead{}, o.flist.protocol);
        conn_.write(h);
        announce_backup();
        return;
    }
    FileDataWindow window(basis.get(), st.st_size);
    write_basis_sums(conn_, *head, window, *block_sum_, o.flist.protocol, [this] { maybe_keepalive(); },
                     bp.append);
    announce_backup();
}

std::int32_t Generator::check_prior(std::int32_t ndx, std::string& done_name)
{
    // Upstream hlink.c:check_prior: the nearest earlier member not skipped, or (incremental
    // lists) the name a completed group left behind.
    HardLinkState* h = hl_.find(ndx);
    std::int32_t prev = h ? h->prev : -1;
    while (prev >= 0) {
        HardLinkState* p = hl_.find(prev);
        if (!p || !s_.lists.entry_for_ndx(prev))
            break;
        if (!p->skip)
            return prev;
        prev = h->prev = p->prev;
    }
    if (s_.opt.flist.inc_recurse && h) {
        if (HardLinkTable::Prior* node = hl_.prior(h->gnum)) {
            if (const auto* name = std::get_if<std::string>(node)) {
                done_name = *name;
                return -1;
            }
            h->prev = -1;
        }
    }
    return -1;
}

bool Generator::hard_link_check(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel, int statret,
                                const struct stat& st)
{
    // Upstream hlink.c:hard_link_check: true when the file is handled (linked, waiting for
    // its leader, or failed), false to process it as a file of its own.
    HardLinkState* h = hl_.find(ndx);
    std::string leader_rel;
    std::string leader_name;
    std::int32_t prev = check_prior(ndx, leader_rel);
    if (leader_rel.empty()) {
        if (prev < 0)
            return false; // the earlier members were skipped: a "virtual first"
        HardLinkState* p = hl_.find(prev);
        if (!p->done) {
            if (p->sent) {
                // Wait for the one being transferred.
                h->prev = p->prev;
                p->prev = ndx;
                h->sent = true;
                bump_in_progress(ndx, 1);
                return true;
            }
            return false;
        }
        if (!p->first) {
            std::string name;
            prev = check_prior(prev, name);
            h->prev = prev;
            leader_rel = name;
        }
        if (leader_rel.empty()) {
            const protocol::FileEntry* le = prev >= 0 ? s_.lists.entry_for_ndx(prev) : nullptr;
            if (!le)
                return false;
            leader_rel = s_.local_path(le->name);
            leader_name = le->name;
        }
    }
    if (leader_name.empty())
        leader_name = leader_rel.substr(s_.dest.base.empty() ? 0 : s_.dest.base.size() + 1);
    struct stat leader_st{};
    if (const Errno err = stat_entry(s_, report_, leader_rel, leader_st); err != 0) {
        if (!s_.opt.dry_run || err != ENOENT) {
            report_.syserr(LogCode::ErrorXfer, err, "stat " + s_.full_fname(leader_name) + " failed");
            return true;
        }
        leader_st = {};
    }
    // Upstream hlink.c:hard_link_check: a member linked to its leader counts as sent.
    if (maybe_hard_link(e, ndx, rel, statret, statret == 0 ? &st : nullptr, leader_rel, leader_st, leader_name) &&
        s_.opt.remove_source_files == 1)
        send_success(ndx);
    return true;
}

bool Generator::atomic_create(const protocol::FileEntry& e, const std::string& rel, int statret, const struct stat* st,
                              const std::function<Errno(const std::string&)>& make, const std::string& failed_text)
{
    // Upstream generator.c:atomic_create: a new name beside the old entry, then a rename
    // over it, unless a directory is in the way or a temp dir is in use; -b keeps what is
    // replaced (linked when atomic, else moved), otherwise a non-atomic create deletes it.
    const bool in_way = statret == 0 && st;
    const bool atomic = in_way && !S_ISDIR(st->st_mode) && s_.temp_dir.empty();
    const int backed = in_way && s_.deletion ? s_.deletion->backup_in_way(rel, *st, atomic) : 0;
    if (backed < 0)
        return false;
    if (in_way && !atomic && backed == 0 && !delete_item(rel, *st, e.mode))
        return false;
    std::string name = rel;
    if (atomic) {
        const auto slash = rel.rfind('/');
        name = (slash == std::string::npos ? std::string() : rel.substr(0, slash + 1)) + "." +
               (slash == std::string::npos ? rel : rel.substr(slash + 1)) + "." + random_suffix();
    }
    if (const Errno err = make(name); err != 0) {
        report_.syserr(LogCode::ErrorXfer, err, failed_text);
        return false;
    }
    if (atomic) {
        if (const Errno err = s_.writer.rename(name, rel); err != 0) {
            report_.syserr(LogCode::ErrorXfer, err, "rename failed for " + s_.full_fname(e.name));
            (void)s_.writer.unlink(name);
            return false;
        }
    }
    return true;
}

bool Generator::maybe_hard_link(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel, int statret,
                                const struct stat* st, const std::string& leader_rel, const struct stat& leader_st,
                                const std::string& leader_name)
{
    // Upstream hlink.c:maybe_hard_link.
    const ReceiverOptions& o = s_.opt;
    const std::uint32_t mode = s_.entry_mode(e);
    if (statret == 0 && st && st->st_dev == leader_st.st_dev && st->st_ino == leader_st.st_ino) {
        itemize(e, mode, ndx, statret, st, kItemLocalChange | kItemXnameFollows, kBasisFname, "");
        if (HardLinkState* h = hl_.find(ndx))
            h->done = true;
        return true;
    }
    if (!o.dry_run) {
        auto make = [&](const std::string& name) { return s_.writer.link(leader_rel, name); };
        if (!atomic_create(e, rel, statret, st, make, "link " + s_.full_fname(e.name) + " => " + leader_name + " failed"))
            return false;
    }
    // Upstream hlink.c:hard_link_one marks a member it linked done (a dry run included), so
    // that a later member of the group links to the leader instead of standing alone.
    if (HardLinkState* h = hl_.find(ndx))
        h->done = true;
    itemize(e, mode, ndx, statret, st, kItemLocalChange | kItemXnameFollows, kBasisFname, leader_name);
    if (const auto code = name_code(); o.info_name >= 1 && code)
        report_.emit(*code, e.name + " => " + leader_name + "\n");
    return true;
}

void Generator::finish_hard_link(std::int32_t fin_ndx, const std::string& rel, const struct stat* stp)
{
    // Upstream hlink.c:finish_hard_link: the group's waiting members become links to this
    // file, which is the group's leader from now on.
    HardLinkState* h = hl_.find(fin_ndx);
    if (!h)
        return;
    const protocol::FileEntry* fe = s_.lists.entry_for_ndx(fin_ndx);
    struct stat st{};
    std::int32_t prev = h->prev;
    if (!stp && prev >= 0) {
        if (const Errno err = stat_entry(s_, report_, rel, st); err != 0 && !s_.opt.dry_run) {
            report_.syserr(LogCode::ErrorXfer, err, "stat " + s_.full_fname(fe ? fe->name : rel) + " failed");
            return;
        }
        stp = &st;
    }
    h->first = true;
    h->done = true;
    h->prev = -1;
    const std::int32_t gnum = h->gnum;
    while (prev >= 0) {
        const std::int32_t ndx = prev;
        HardLinkState* m = hl_.find(ndx);
        const protocol::FileEntry* me = s_.lists.entry_for_ndx(ndx);
        if (!m || !me)
            break;
        m->first = false;
        m->done = true;
        prev = m->prev;
        m->prev = fin_ndx;
        const std::string mrel = s_.local_path(me->name);
        struct stat mst{};
        const int mret = stat_entry(s_, report_, mrel, mst) == 0 ? 0 : -1;
        const bool linked = maybe_hard_link(*me, ndx, mrel, mret, mret == 0 ? &mst : nullptr, rel,
                                            stp ? *stp : st, fe ? fe->name : rel);
        bump_in_progress(ndx, -1);
        // Upstream hlink.c:finish_hard_link: each member linked now counts as sent.
        if (linked && s_.opt.remove_source_files == 1)
            send_success(ndx);
    }
    if (s_.opt.flist.inc_recurse)
        if (HardLinkTable::Prior* node = hl_.prior(gnum))
            *node = rel;
}

void Generator::handle_skipped_hlink(std::int32_t ndx)
{
    // Upstream generator.c:handle_skipped_hlink / hlink.c:skip_hard_link: when the member
    // that was to be transferred fails, the nearest waiting one takes its place.
    HardLinkState* h = hl_.find(ndx);
    if (!h || h->prev < 0)
        return;
    h->skip = true;
    if (!h->last)
        return;
    std::string name;
    const std::int32_t prev = check_prior(ndx, name);
    if (prev < 0)
        return;
    HardLinkState* p = hl_.find(prev);
    if (p->done || p->sent)
        return;
    p->last = true;
    const protocol::FileEntry* pe = s_.lists.entry_for_ndx(prev);
    if (!pe)
        return;
    bump_in_progress(prev, -1);
    recv_generator(*pe, prev, 0, false);
}

std::optional<Generator::FuzzyBasis> Generator::find_fuzzy(const protocol::FileEntry& e, const std::string& rel)
{
    // Upstream generator.c:recv_generator: index 0 is the file's own directory, index i
    // the (i-1)th alt-dest dir joined with the file's dirname.
    const auto rslash = rel.rfind('/');
    const std::string own_dir = rslash == std::string::npos ? std::string() : rel.substr(0, rslash);
    const auto nslash = e.name.rfind('/');
    const std::string dn = nslash == std::string::npos ? std::string(".") : e.name.substr(0, nslash);
    const std::string base = nslash == std::string::npos ? e.name : e.name.substr(nslash + 1);
    if (need_fuzzy_dirs_) {
        fuzzy_dirs_.clear();
        for (int i = 0; i < s_.opt.fuzzy_basis; ++i) {
            std::string dir = own_dir;
            if (i > 0) {
                if (static_cast<std::size_t>(i) > basis_dirs_.size())
                    break;
                dir = join_path(basis_dirs_[static_cast<std::size_t>(i - 1)], dn);
            }
            // The daemon's rules see the name as upstream's send_directory builds it,
            // below the destination: "dn/name" (or the alt-dest dir's path before it).
            std::string shown = i == 0 ? (dn == "." ? std::string() : dn) : dir;
            const std::string& dest = s_.dest.base;
            if (i > 0 && !dest.empty() && shown.size() > dest.size() && shown.compare(0, dest.size(), dest) == 0 &&
                shown[dest.size()] == '/')
                shown.erase(0, dest.size() + 1);
            auto hidden = [this, &shown](std::string_view name, bool is_dir) {
                return s_.daemon_excluded && s_.daemon_excluded(join_path(shown, std::string(name)), is_dir);
            };
            fuzzy_dirs_.push_back(scan_fuzzy_dir(s_.writer, dir, hidden));
            fuzzy_dir_paths_.resize(fuzzy_dirs_.size());
            fuzzy_dir_paths_.back() = dir;
        }
        need_fuzzy_dirs_ = false;
    }
    const auto c = choose_fuzzy(base, e.size, e.mtime, fuzzy_dirs_, s_.opt.modify_window);
    if (!c)
        return std::nullopt;
    const FuzzyCandidate& f = fuzzy_dirs_[c->dir][c->index];
    return FuzzyBasis{join_path(fuzzy_dir_paths_[c->dir], f.name), f.name, c->dir, f.size};
}

void Generator::mark_fuzzy_sent(const std::string& name)
{
    const auto slash = name.rfind('/');
    const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    for (FuzzyCandidate& c : fuzzy_dirs_[0])
        if (c.name == base && !S_ISDIR(c.mode))
            c.sent = true;
}

} // namespace ocr::transfer
