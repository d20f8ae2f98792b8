// SPDX-License-Identifier: MIT
// A push's deletions and backups wired to the session (timing, reporting, statistics).
#include "transfer/push_deletion.hpp"

#include "protocol/ndx.hpp"
#include "protocol/wire.hpp"
#include "transfer/log_format.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace ocr::transfer {
namespace {

// Upstream MAXPATHLEN: longer names are not sent as MSG_DELETED.
constexpr std::size_t kMaxPath = 4096;

} // namespace

PushDeletion::PushDeletion(PushShared& shared, Connection& conn, Reporter& report, const FilterSet* filters)
    : s_(shared), conn_(conn), report_(report), filters_(filters)
{
    const ReceiverOptions& o = s_.opt;
    if (o.make_backups) {
        BackupMaker::Hooks gen_hooks;
        gen_hooks.message = [this](LogCode code, std::string text) { report_.emit(code, text); };
        gen_hooks.syserr = [this](LogCode code, int err, std::string text) { report_.syserr(code, err, text); };
        gen_hooks.full_fname = [this](std::string_view name) { return s_.full_fname(name); };
        gen_hooks.remove_in_way = [this](const std::string& name, std::uint32_t mode) {
            return deleter_->delete_item(name, mode,
                                         del_for_flag(mode) | del_flag::kForBackup | del_flag::kRecurse) ==
                   DelResult::Success;
        };
        gen_backup_ = std::make_unique<BackupMaker>(s_.writer, backup_settings(), std::move(gen_hooks));

        // The receiver thread reports through the channel; what is in the way of a backup it
        // removes without the generator's deletion log (it runs on another thread).
        BackupMaker::Hooks recv_hooks;
        recv_hooks.message = [this](LogCode code, std::string text) { s_.channel.message(code, std::move(text)); };
        recv_hooks.syserr = [this](LogCode code, int err, std::string text) { s_.channel.syserr(code, err, text); };
        recv_hooks.full_fname = [this](std::string_view name) { return s_.full_fname(name); };
        recv_backup_ = std::make_unique<BackupMaker>(s_.writer, backup_settings(), std::move(recv_hooks));
    }

    DeleterSettings ds;
    ds.base = s_.dest.base;
    ds.protocol = o.flist.protocol;
    ds.dry_run = o.dry_run;
    ds.am_root = o.am_root != 0;
    ds.max_delete = o.max_delete;
    ds.ignore_errors = o.ignore_errors;
    ds.inc_recurse = o.flist.inc_recurse;
    ds.timing.before = o.delete_before;
    ds.timing.during = o.delete_during;
    ds.timing.after = o.delete_after;

    Deleter::Hooks h;
    h.deleted = [this](std::string_view name, std::uint32_t mode) { deleted(name, mode); };
    h.message = [this](LogCode code, std::string text) { report_.emit(code, text); };
    h.syserr = [this](LogCode code, int err, std::string text) { report_.syserr(code, err, text); };
    h.full_fname = [this](std::string_view name) { return s_.full_fname(name); };
    // Upstream's generator io_error holds what the sender reported (its list's and its
    // MSG_IO_ERROR bits, which our receiver thread puts in the channel); the generator's own
    // transfer errors only set got_xfer_error, so they must not stop deletions.
    h.io_error = [this] { return s_.channel.io_error() | s_.lists.io_error(); };
    h.add_io_error = [this](int bits) { report_.add_io_error(bits); };
    if (filters_) {
        h.excluded = [this](std::string_view name, bool is_dir, bool ignore_perishable) {
            return filters_->excluded(name, is_dir ? NameKind::Dir : NameKind::File, ignore_perishable) !=
                   Exclusion::None;
        };
    }
    h.keepalive = [this] {
        if (s_.opt.flist.protocol >= 30)
            conn_.keepalive();
    };
    deleter_ = std::make_unique<Deleter>(s_.writer, std::move(ds), std::move(h), gen_backup_.get());
}

BackupSettings PushDeletion::backup_settings() const
{
    const ReceiverOptions& o = s_.opt;
    BackupSettings b;
    b.base = s_.dest.base;
    if (!o.backup_dir.empty()) {
        // A leading '/' names a directory from the module root; otherwise it is relative to
        // the destination (upstream's current directory).
        b.dir = resolve_from_destination(s_.dest, o.backup_dir);
        if (b.dir.empty())
            b.dir = "."; // the module root itself; empty would mean "beside the file"
        b.dir_shown = o.backup_dir_shown.empty() ? o.backup_dir : o.backup_dir_shown;
        if (b.dir_shown.back() != '/')
            b.dir_shown += '/';
    }
    b.suffix = o.backup_suffix;
    b.dry_run = o.dry_run;
    b.preserve_links = o.preserve_links;
    b.safe_links = o.safe_links;
    b.preserve_devices = o.preserve_devices;
    b.preserve_specials = o.preserve_specials;
    b.info_backup = o.info_backup;
    b.info_symsafe = o.info_symsafe;
    b.info_nonreg = o.info_nonreg;
    b.attrs = s_.attrs;
    b.protocol = o.flist.protocol;
    return b;
}

bool PushDeletion::enabled() const noexcept
{
    // Upstream: no deletion for a single file under another name, nor into a destination a
    // dry run would have created (dry_run > 1).
    return s_.opt.delete_mode != 0 && !s_.dest.solo_file && !s_.dest.missing;
}

bool PushDeletion::during() const noexcept
{
    return enabled() && deleter_->timing().during != 0;
}

bool PushDeletion::early_done() const noexcept
{
    return deleter_->timing().early_done();
}

std::string PushDeletion::name_of(const std::string& rel) const
{
    const std::string& base = s_.dest.base;
    if (base.empty())
        return rel.empty() ? std::string(".") : rel;
    if (rel == base)
        return ".";
    if (rel.size() > base.size() && rel.compare(0, base.size(), base) == 0 && rel[base.size()] == '/')
        return rel.substr(base.size() + 1);
    return rel;
}

const ListNames& PushDeletion::whole_list()
{
    if (!whole_) {
        whole_ = std::make_unique<ListNames>();
        for (std::size_t i = 0; i < s_.lists.list_count(); ++i)
            whole_->add(s_.lists.list(i).entries);
    }
    return *whole_;
}

void PushDeletion::before_generating()
{
    if (!enabled() || !deleter_->timing().before || s_.lists.list_count() == 0 || s_.lists.list(0).entries.empty())
        return;
    deleter_->delete_pass(s_.lists.list(0).entries, whole_list());
}

void PushDeletion::in_dir(const protocol::FileEntry& dir, std::size_t list_index, bool dir_missing)
{
    if (!during() || dir_missing || !dir.content_dir)
        return;
    if (!s_.opt.flist.inc_recurse) {
        deleter_->delete_in_dir(dir.name, whole_list());
        return;
    }
    if (list_index >= s_.lists.list_count())
        return;
    ListNames names;
    names.add(s_.lists.list(list_index).entries);
    deleter_->delete_in_dir(dir.name, names);
}

void PushDeletion::write_del_stats()
{
    // Upstream: main.c:write_del_stats (only when deletion was asked for).
    if (s_.opt.delete_mode == 0 && !s_.opt.force_delete)
        return;
    // NDX_DEL_STATS is the only negative index besides NDX_DONE the generator sends, and
    // NDX_DONE does not touch the encoder's state, so a fresh encoder writes the same bytes.
    protocol::NdxEncoder enc(s_.opt.flist.protocol);
    std::string out;
    enc.put(out, protocol::kNdxDelStats);
    const DeleteStats& st = deleter_->stats();
    auto clamp = [](std::int64_t v) { return static_cast<std::int32_t>(std::min<std::int64_t>(v, INT32_MAX)); };
    protocol::put_varint(out, clamp(st.regular()));
    protocol::put_varint(out, clamp(st.dirs));
    protocol::put_varint(out, clamp(st.symlinks));
    protocol::put_varint(out, clamp(st.devices));
    protocol::put_varint(out, clamp(st.specials));
    conn_.write(out);
}

void PushDeletion::after_phases()
{
    if (enabled()) {
        if (deleter_->timing().during == 2)
            deleter_->delayed_deletions();
        if (deleter_->timing().after && s_.lists.total_entries() > 0 && s_.lists.list_count() > 0)
            deleter_->delete_pass(s_.lists.list(0).entries, whole_list());
    }
    deleter_->report_limit();
}

bool PushDeletion::make_room(const std::string& rel, const struct stat& st, std::uint32_t new_mode)
{
    const bool recurse = s_.opt.delete_mode != 0 || s_.opt.force_delete;
    return deleter_->make_room(name_of(rel), st, new_mode, recurse);
}

void PushDeletion::delete_missing_arg(const std::string& rel, const struct stat& st)
{
    const std::string name = name_of(rel);
    // Upstream checks the filter list as for a non-directory (is_dir is 0 for a mode-0 entry).
    if (filters_ && filters_->excluded(name, NameKind::File, false) != Exclusion::None)
        return;
    const bool recurse = s_.opt.delete_mode != 0 || s_.opt.force_delete; // upstream del_opts
    (void)deleter_->delete_item(name, st.st_mode, recurse ? del_flag::kRecurse : 0u);
}

int PushDeletion::backup_in_way(const std::string& rel, const struct stat& st, bool atomic)
{
    if (!gen_backup_ || S_ISDIR(st.st_mode))
        return 0;
    return gen_backup_->make_backup(name_of(rel), !atomic) == BackupResult::Failed ? -1 : 1;
}

std::optional<std::string> PushDeletion::backup_for_inplace(const std::string& rel)
{
    if (!gen_backup_)
        return std::nullopt;
    return gen_backup_->copy_backup(name_of(rel), false);
}

void PushDeletion::announce_inplace_backup(const std::string& rel, const std::string& shown)
{
    if (gen_backup_)
        gen_backup_->announce(name_of(rel), shown);
}

bool PushDeletion::backup_replaced(const std::string& rel)
{
    if (!recv_backup_)
        return true;
    return recv_backup_->make_backup(name_of(rel), false) != BackupResult::Failed;
}

void PushDeletion::deleted(std::string_view name, std::uint32_t mode)
{
    // Upstream: log.c:log_delete on a daemon's generator.
    const ReceiverOptions& o = s_.opt;
    if (o.flist.protocol >= 29 && name.size() < kMaxPath) {
        std::string payload(name);
        if (S_ISDIR(mode))
            payload.push_back('\0'); // a directory's name travels with its NUL
        conn_.send_message(protocol::MsgCode::Deleted, payload);
    } else if (o.info_del >= 1 || o.stdout_format) {
        const bool has_o_or_i =
            o.stdout_format && (log_format_has(*o.stdout_format, 'o') || log_format_has(*o.stdout_format, 'i'));
        const std::string format = has_o_or_i ? *o.stdout_format : std::string("deleting %n");
        LogSession session;
        session.module_name = s_.module_name;
        session.preserve_mtimes = o.preserve_mtimes;
        session.receiver_symlink_times = true;
        const LogLine line =
            render_log_format(format, session, make_delete_item(std::string(name), mode, o.preserve_gid));
        if (line.ok())
            report_.emit(LogCode::Client, line.text + "\n");
    }
    if (s_.log_delete)
        s_.log_delete(name, mode);
}

} // namespace ocr::transfer
