// SPDX-License-Identifier: MIT
// A push from the setup bytes to the session's end; the engine is transfer::PushEngine.
#include "worker/push_session.hpp"

#include "daemon/module_policy.hpp"
#include "daemon/session_setup.hpp"
#include "daemon/upstream_text.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/chmod_rules.hpp"
#include "transfer/filter_client.hpp"
#include "transfer/filter_daemon.hpp"
#include "transfer/log_format.hpp"
#include "transfer/module_writer.hpp"
#include "transfer/push_engine.hpp"
#include "transfer/receiver.hpp"
#include "transfer/reporter.hpp"
#include "worker/protocol_start.hpp"
#include "worker/session_parts.hpp"
#include "worker/transfer_ending.hpp"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <mutex>
#include <vector>

namespace ocr::worker {
namespace {

using protocol::ExitCode;

// Upstream's module-relative form of a path argument the daemon already sanitized.
std::string module_relative(const std::string& arg, std::size_t module_dirlen)
{
    std::string rel = arg;
    if (!rel.empty() && rel[0] == '/')
        rel = rel.substr(std::min(module_dirlen, rel.size()));
    while (!rel.empty() && rel[0] == '/')
        rel.erase(0, 1);
    return rel;
}

std::vector<std::string> split_path(const std::string& path)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto slash = path.find('/', start);
        parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos)
            return parts;
        start = slash + 1;
    }
}

transfer::ReceiverOptions receiver_options(const daemon::ServerOptions& o, const StartedProtocol& started,
                                           const PushContext& ctx, const transfer::TransferLogFormat& log_format)
{
    const daemon::ProtocolSetupPlan& plan = started.plan;
    transfer::ReceiverOptions r;
    r.flist = flist_options(o, started, ctx.confined.munge_symlinks, ctx.module_dirlen);

    r.xfer_checksum = started.checksums.transfer;
    r.file_checksum = started.checksums.file_list;
    r.checksum_seed = started.seed;
    if (started.compression)
        r.compression = started.compression->compression;
    r.max_alloc = static_cast<std::size_t>(o.max_alloc);

    if (!o.paths.empty()) {
        r.dest_given = true;
        r.dest_path = module_relative(o.paths.front(), ctx.module_dirlen);
        if (!o.paths.front().empty() && o.paths.front().back() == '/' && !r.dest_path.empty() &&
            r.dest_path.back() != '/')
            r.dest_path += '/';
    }
    if (o.tmpdir) {
        // Every write goes through the module's confined handle, so only a temp dir inside
        // the module can be used. The module's own "temp dir" may name any directory
        // upstream can reach; one outside the module is not used (files are then staged
        // beside their destination, as without the setting).
        const std::string& t = *o.tmpdir;
        const std::string& root = ctx.module.path;
        const bool from_module = !ctx.module.temp_dir.empty() && t == ctx.module.temp_dir;
        r.temp_dir_shown = t;
        if (!from_module || t.empty() || t[0] != '/') {
            r.temp_dir = !t.empty() && t[0] == '/' ? "/" + module_relative(t, ctx.module_dirlen) : t;
        } else if (t.size() > root.size() && t.compare(0, root.size(), root) == 0 && t[root.size()] == '/') {
            r.temp_dir = "/" + module_relative(t.substr(root.size()), 0);
        } else {
            spdlog::warn("temp dir {} is outside module {}: files are staged beside their destination", t,
                         ctx.module.name);
        }
    }

    r.basis_dirs = o.basis_dirs;
    r.alt_dest_type = o.alt_dest_type;
    r.fuzzy_basis = o.fuzzy_basis;
    r.sanitize_paths = ctx.module_dirlen != 0;
    r.module_dir = ctx.module_dirlen != 0 ? ctx.module.path : std::string("/");

    r.dry_run = o.do_xfers == 0;
    r.whole_file = o.whole_file > 0 || started.checksums.forces_whole_file();
    if (o.append_mode > 0)
        r.whole_file = false;
    r.block_size = o.block_size;
    r.always_checksum = o.always_checksum != 0;
    r.size_only = o.size_only != 0;
    r.ignore_times = o.ignore_times != 0;
    r.update_only = o.update_only != 0;
    r.ignore_existing = o.ignore_existing != 0;
    r.ignore_non_existing = o.ignore_non_existing != 0;
    r.modify_window = o.modify_window;
    r.max_size = o.max_size;
    r.min_size = o.min_size;
    r.recurse = o.recurse != 0;
    r.relative_paths = o.relative_paths > 0;
    r.implied_dirs = o.implied_dirs != 0;
    r.prune_empty_dirs = o.prune_empty_dirs != 0;

    r.inplace = o.inplace != 0;
    r.append_mode = o.append_mode;
    r.sparse = o.sparse_files > 0;
    r.do_fsync = o.do_fsync != 0;
    r.keep_partial = o.keep_partial != 0;
    if (o.partial_dir) {
        // Upstream main.c:do_server_recv sanitizes it (no leading '/', no ".."), which
        // leaves it relative to each file's directory.
        std::string cleaned;
        for (const std::string& part : split_path(*o.partial_dir)) {
            if (part.empty() || part == "." || part == "..")
                continue;
            cleaned += (cleaned.empty() ? "" : "/") + part;
        }
        r.partial_dir = cleaned;
    }
    r.delay_updates = o.delay_updates != 0;
    r.preallocate = o.preallocate_files != 0;
    r.remove_source_files = o.remove_source_files;

    r.preserve_perms = o.preserve_perms != 0;
    r.preserve_executability = o.preserve_executability != 0;
    r.preserve_mtimes = o.preserve_mtimes != 0;
    r.omit_dir_times = o.omit_dir_times != 0;
    r.omit_link_times = o.omit_link_times != 0;
    r.preserve_uid = o.preserve_uid != 0;
    r.preserve_gid = o.preserve_gid != 0;
    r.preserve_links = o.preserve_links != 0;
    r.preserve_devices = o.preserve_devices != 0;
    r.preserve_specials = o.preserve_specials != 0;
    r.safe_links = o.safe_symlinks != 0;
    r.munge_symlinks = ctx.confined.munge_symlinks;
    r.am_root = o.am_root < 0 ? -1 : (::geteuid() == 0 ? 1 : 0);
    r.numeric_ids = o.numeric_ids != 0;
    r.usermap = o.usermap;
    r.groupmap = o.groupmap;
    const mode_t um = ::umask(0);
    ::umask(um);
    r.umask = um;

    r.delete_mode = o.delete_mode;
    r.ignore_errors = o.ignore_errors != 0;
    r.delete_before = o.delete_before != 0;
    r.delete_during = o.delete_during;
    r.delete_after = o.delete_after != 0;
    if (r.delete_mode && !r.delete_before && r.delete_during == 0 && !r.delete_after) {
        // Upstream: compat.c:setup_protocol picks the default --delete timing.
        if (plan.protocol < 30)
            r.delete_before = true;
        else
            r.delete_during = 1;
    }
    r.force_delete = o.force_delete != 0;
    r.max_delete = o.max_delete == INT_MIN ? -1 : std::max(o.max_delete, 0);
    r.info_del = o.info_levels[2]; // INFO_DEL
    r.stdout_format = o.stdout_format;
    r.make_backups = o.make_backups != 0;
    if (o.backup_dir) {
        // Upstream keeps --backup-dir relative to the destination unless sanitize_path made
        // it absolute (below the module); a leading '/' marks the latter here.
        const std::string& bd = *o.backup_dir;
        r.backup_dir = !bd.empty() && bd[0] == '/' ? "/" + module_relative(bd, ctx.module_dirlen) : bd;
        while (r.backup_dir.size() > 1 && r.backup_dir.back() == '/')
            r.backup_dir.pop_back();
        r.backup_dir_shown = bd;
    }
    r.backup_suffix = o.backup_suffix.value_or(o.backup_dir ? "" : "~");
    r.info_backup = o.info_levels[0];   // INFO_BACKUP
    r.info_symsafe = o.info_levels[12]; // INFO_SYMSAFE
    r.info_nonreg = o.info_levels[7];   // INFO_NONREG

    r.info_name = o.info_levels[6]; // INFO_NAME
    r.debug_flist = o.debug_levels[11]; // DEBUG_FLIST
    r.stdout_format_has_i = o.stdout_format_has_i;
    r.log_before_transfer = o.log_before_transfer != 0;
    r.logfile_format_has_i = log_format.has_i;
    r.log_transfers = log_format.logs_items();

    r.io_timeout = std::chrono::seconds(ctx.io_timeout);
    r.bwlimit_kib = daemon::effective_bwlimit(o.bwlimit, ctx.defaults.bwlimit_kib);
    return r;
}

// The transfer log of a push (upstream log_item(FLOG) with op "recv").
class PushTransferLog {
public:
    PushTransferLog(const PushContext& ctx, const daemon::ServerOptions& o, const StartedProtocol& started,
                    transfer::TransferLogFormat format)
        : format_(std::move(format))
    {
        munge_symlinks_ = ctx.confined.munge_symlinks;
        session_.remote_addr = ctx.session.addr;
        session_.remote_host = ctx.module.reverse_lookup ? ctx.session.host : std::string("UNDETERMINED");
        session_.module_name = ctx.module.name;
        session_.module_path = ctx.module.path;
        session_.auth_user = ctx.session.auth_user;
        session_.pid = static_cast<long>(::getpid());
        session_.am_sender = false;
        session_.preserve_mtimes = o.preserve_mtimes != 0;
        session_.receiver_symlink_times = true;
        session_.always_checksum = o.always_checksum != 0;
        session_.checksum_length = protocol::checksum_length(
            o.always_checksum ? started.checksums.file_list : started.checksums.transfer.kind);
        preserve_uid_ = o.preserve_uid != 0;
        preserve_gid_ = o.preserve_gid != 0;
        file_list_sum_ = started.checksums.file_list;
        transfer_sum_ = started.checksums.transfer.kind;
    }

    void set_daemon_dir(std::string dir) { daemon_dir_ = std::move(dir); }
    void set_delete_format(std::string format) { delete_format_ = std::move(format); }

    // Upstream log.c:log_delete's log-file line.
    void deleted(std::string_view name, std::uint32_t mode)
    {
        transfer::LogItem it = transfer::make_delete_item(std::string(name), mode, preserve_gid_);
        it.daemon_dir = daemon_dir_;
        std::lock_guard<std::mutex> lock(mutex_);
        session_.now = std::time(nullptr);
        const transfer::LogLine line = transfer::render_log_format(delete_format_, session_, it);
        if (line.ok())
            spdlog::info("{}", line.text);
    }

    void item(const transfer::PushLogItem& p)
    {
        const protocol::FileEntry& f = *p.entry;
        transfer::LogItem it;
        it.op = "recv";
        it.name = f.name;
        it.daemon_dir = daemon_dir_;
        it.mode = p.mode;
        it.length = f.size;
        it.mtime = static_cast<std::time_t>(f.mtime);
        if (preserve_uid_)
            it.uid = p.local_uid.value_or(f.uid);
        // Upstream log.c's %G says DEFAULT for a group the receiver may not give.
        if (preserve_gid_ && !p.group_skipped)
            it.gid = p.local_gid.value_or(f.gid);
        // Upstream log.c's %L shows F_SYMLINK: the target as stored, munged in a munging module.
        it.symlink_target = munge_symlinks_ ? std::string(transfer::kMungedSymlinkPrefix) + f.symlink_target
                                            : f.symlink_target;
        it.iflags = p.iflags;
        it.hlink = std::string(p.hlink);
        it.bytes_read = p.bytes_read;
        // %C: the --checksum sum of the file list, or the sum the sender sent after the
        // data (upstream sender_file_sum).
        if (session_.always_checksum && !f.checksum.empty())
            it.file_sum_hex = protocol::checksum_hex(file_list_sum_, std::as_bytes(std::span(f.checksum)));
        if (!p.file_sum.empty())
            it.xfer_sum_hex = protocol::checksum_hex(transfer_sum_, std::as_bytes(p.file_sum));
        std::lock_guard<std::mutex> lock(mutex_);
        session_.now = std::time(nullptr);
        const transfer::LogLine line = transfer::render_log_format(*format_.format, session_, it);
        if (line.ok())
            spdlog::info("{}", line.text);
    }

private:
    bool munge_symlinks_ = false;
    protocol::ChecksumKind file_list_sum_ = protocol::ChecksumKind::Md5;
    protocol::ChecksumKind transfer_sum_ = protocol::ChecksumKind::Md5;
    transfer::TransferLogFormat format_;
    transfer::LogSession session_;
    std::string daemon_dir_;
    std::string delete_format_;
    std::mutex mutex_;
    bool preserve_uid_ = false;
    bool preserve_gid_ = false;
};

daemon::UpstreamSite default_site(int code)
{
    switch (static_cast<ExitCode>(code)) {
    case ExitCode::Protocol:
        return {"io.c", 1479};
    case ExitCode::FileIo:
        return {"receiver.c", 640};
    case ExitCode::FileSelect:
        return {"main.c", 787};
    case ExitCode::Malloc:
        return {"util2.c", 80};
    default:
        return {"main.c", 1338};
    }
}

} // namespace

int run_push(const PushContext& ctx, daemon::ServerOptions& options, UniqueFd client)
{
    const int effective_timeout = ctx.io_timeout;
    transfer::Connection conn({client.get(), std::chrono::seconds(effective_timeout),
                               daemon::effective_bwlimit(options.bwlimit, ctx.defaults.bwlimit_kib), "Receiver",
                               ctx.session.pending_input});

    StartedProtocol started;
    try {
        auto start = start_protocol(conn, options);
        if (auto* failed = std::get_if<StartFailure>(&start)) {
            if (!failed->log_text.empty())
                spdlog::error("{}", daemon::without_newline(failed->log_text));
            spdlog::error("{}", daemon::without_newline(daemon::rsync_error_line(
                                    failed->exit_code, {"compat.c", 406}, daemon::UpstreamRole::Receiver)));
            return failed->exit_code;
        }
        started = std::get<StartedProtocol>(start);
    } catch (const protocol::ProtocolError& e) {
        spdlog::error("{}", e.what());
        return protocol::to_int(e.code());
    }
    const int protocol = started.plan.protocol;

    // Upstream start_server / do_server_recv: multiplex our output, tell a 31+ client our
    // timeout, and read multiplexed input from protocol 30.
    transfer::Reporter report(conn, protocol, "generator", log_to_daemon);
    EndingContext ending{conn, report, protocol, false, std::chrono::seconds(effective_timeout)};
    conn.start_mux_out();
    report.set_can_send(true);
    if (effective_timeout > 0 && protocol >= 31)
        conn.send_message(protocol::MsgCode::IoTimeout, int32_le(effective_timeout));
    if (protocol >= 30)
        conn.start_mux_in();

    transfer::ModuleFs fs(UniqueFd(::fcntl(ctx.confined.root.get(), F_DUPFD_CLOEXEC, 0)));
    ctx.filter_files.confined(fs);
    transfer::ModuleWriter writer(ctx.confined.root.get());
    // Upstream: the module's "open noatime" overrides the client's --open-noatime, and the
    // receiving side's opens of basis files (syscall.c:do_open_nofollow) carry O_NOATIME.
    writer.set_open_noatime(options.open_noatime != 0);

    const transfer::FilterOptions fo =
        session_filter_options(options, transfer::FilterSide::Receiver, "receiver", protocol, ctx.confined.chrooted);
    transfer::FilterSet filters(fo, ctx.filter_files);
    const transfer::SessionChmod chmod = session_chmod(options, ctx.module.incoming_chmod, false);

    const transfer::TransferLogFormat log_format = transfer::resolve_transfer_log_format(
        ctx.defaults.log_file_format, ctx.module.transfer_logging, ctx.module.log_format);
    transfer::ReceiverOptions ropt = receiver_options(options, started, ctx, log_format);
    PushTransferLog tlog(ctx, options, started, log_format);
    bool receiver_started = false;

    try {
        transfer::load_module_filters(filters, transfer::ModuleFilterConfig{ctx.module.filter, ctx.module.include_from,
                                                                          ctx.module.include, ctx.module.exclude_from,
                                                                          ctx.module.exclude, ctx.module.path});
        for (const daemon::FilterOption& f : options.filters)
            transfer::add_option_rule(filters, option_rule_kind(f.kind), f.text, ctx.module_dirlen);

        transfer::PushEngine::Services services{conn,
                                                client.get(),
                                                writer,
                                                report,
                                                filters,
                                                ctx.module.name,
                                                ctx.confined.chrooted,
                                                chmod.all.empty() ? nullptr : &chmod.all,
                                                chmod.module_only.empty() ? nullptr : &chmod.module_only,
                                                {},
                                                {},
                                                [&receiver_started] { receiver_started = true; }};
        if (log_format.logs_items()) {
            std::string dir = ropt.dest_path;
            while (!dir.empty() && dir.back() == '/')
                dir.pop_back();
            tlog.set_daemon_dir(dir.empty() ? std::string() : "/" + dir);
            services.log_item = [&tlog](const transfer::PushLogItem& item) { tlog.item(item); };
        }
        if (const auto del_format = log_format.delete_format(ropt.dry_run)) {
            std::string dir = ropt.dest_path;
            while (!dir.empty() && dir.back() == '/')
                dir.pop_back();
            tlog.set_daemon_dir(dir.empty() ? std::string() : "/" + dir);
            tlog.set_delete_format(*del_format);
            services.log_delete = [&tlog](std::string_view name, std::uint32_t mode) { tlog.deleted(name, mode); };
        }
        transfer::PushEngine engine(ropt, std::move(services));
        transfer::WireFilterParams wire{options.prune_empty_dirs != 0, options.delete_mode != 0,
                                        options.cvs_exclude != 0};
        const transfer::PushResult result = engine.run(wire);
        // Upstream log.c:log_exit: the receiving side's totals are logged only for a run
        // that ends with code 0 (an I/O error, a vanished file or the --max-delete limit
        // leave no totals line).
        if (result.exit_code == 0)
            spdlog::info("{}", transfer::session_totals_line(static_cast<std::int64_t>(result.total_written),
                                                             static_cast<std::int64_t>(result.total_read),
                                                             result.total_size));
        ending.shutting_down = true;
        return end_after_completion(ending, result.exit_code, true);
    } catch (const transfer::PushPeerExit& e) {
        return end_after_peer_exit(ending, e.code, {"io.c", 1892});
    } catch (const protocol::ProtocolError& e) {
        const int code = protocol::to_int(e.code());
        const daemon::UpstreamSite site = e.site().file ? e.site() : default_site(code);
        if (e.thread_role())
            ending.role = std::string_view(e.thread_role()) == "generator" ? daemon::UpstreamRole::Generator
                                                                           : daemon::UpstreamRole::ForkedReceiver;
        std::string message = e.what();
        if (!message.empty() && message.back() != '\n')
            message += '\n';
        if (!receiver_started && protocol < 31) {
            // Upstream cleanup.c:_exit_cleanup before do_recv has forked: the process is
            // not am_receiver, so below protocol 31 it sends no MSG_ERROR_EXIT and does not
            // wait for the client; it flushes its messages, sleeps 100 ms and closes (the
            // client's unread list makes that a reset, which the client reports as exit
            // 10). exit_exchange ends a shut-down receiver exactly that way.
            ending.shutting_down = true;
            const int rc = end_with_fatal_error(ending, message, code, site);
            conn.reset_on_close_if_unread();
            return rc;
        }
        return end_with_fatal_error(ending, message, code, site);
    } catch (const std::bad_alloc&) {
        return end_with_fatal_error(ending, "ERROR: out of memory in the receiver\n",
                                    protocol::to_int(ExitCode::Malloc), {"util2.c", 80});
    } catch (const std::exception& e) {
        spdlog::error("internal error in the receiver: {}", e.what());
        return end_with_fatal_error(ending, "", protocol::to_int(ExitCode::StreamIo), {"io.c", 285});
    }
}

} // namespace ocr::worker
