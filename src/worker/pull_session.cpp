// SPDX-License-Identifier: MIT
#include "worker/pull_session.hpp"

#include "daemon/module_policy.hpp"
#include "daemon/session_setup.hpp"
#include "daemon/upstream_text.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/chmod_rules.hpp"
#include "transfer/filter_client.hpp"
#include "transfer/filter_daemon.hpp"
#include "transfer/filter_error.hpp"
#include "transfer/log_format.hpp"
#include "transfer/module_fs.hpp"
#include "transfer/module_glob.hpp"
#include "transfer/reporter.hpp"
#include "transfer/sender.hpp"
#include "worker/id_names.hpp"
#include "worker/protocol_start.hpp"
#include "worker/session_parts.hpp"
#include "worker/transfer_ending.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <memory>

namespace ocr::worker {
namespace {

using protocol::ExitCode;

// The engine's view of the session (upstream's globals as do_server_sender sees them).
transfer::SenderOptions sender_options(const daemon::ServerOptions& o, const StartedProtocol& started,
                                       const PullContext& ctx)
{
    const daemon::ProtocolSetupPlan& plan = started.plan;
    transfer::SenderOptions s;
    s.flist = flist_options(o, started, ctx.confined.munge_symlinks, ctx.module_dirlen);

    s.xfer_checksum = started.checksums.transfer;
    s.file_checksum = started.checksums.file_list;
    s.checksum_seed = started.seed;
    s.proper_seed_order = plan.proper_seed_order;
    if (started.compression) {
        s.compression = started.compression->compression;
        s.compress_level = started.compression->level;
    }
    s.dont_compress = ctx.module.dont_compress;
    s.skip_compress = o.skip_compress.value_or("");

    s.recurse = o.recurse != 0;
    s.xfer_dirs = o.xfer_dirs > 0;
    s.relative_paths = o.relative_paths > 0;
    s.implied_dirs = o.implied_dirs != 0;
    s.one_file_system = o.one_file_system;
    s.list_only = o.list_only != 0;
    s.dry_run = o.do_xfers == 0;
    s.missing_args = o.missing_args;
    s.always_checksum = o.always_checksum != 0;
    s.whole_file = o.whole_file > 0 || started.checksums.forces_whole_file();
    s.append_mode = o.append_mode;
    s.inplace = o.inplace != 0;
    s.inplace_partial = plan.inplace_partial;
    s.make_backups = o.make_backups != 0;
    s.remove_source_files = o.remove_source_files != 0;
    s.info_remove = o.info_levels[9]; // INFO_REMOVE
    s.ignore_errors = o.ignore_errors != 0;
    s.ignore_nonreadable = ctx.module.ignore_nonreadable;
    s.links.preserve_links = o.preserve_links != 0;
    s.links.copy_links = o.copy_links != 0;
    s.links.copy_unsafe_links = o.copy_unsafe_links != 0;
    s.links.safe_links = o.safe_symlinks != 0;
    s.links.copy_dirlinks = o.copy_dirlinks != 0;
    s.links.munge = ctx.confined.munge_symlinks;
    s.preserve_devices = o.preserve_devices != 0;
    s.preserve_specials = o.preserve_specials != 0;
    s.copy_devices = o.copy_devices != 0;
    s.chmod = o.chmod;

    // Upstream do_server_sender: with no path after ".", a recursive, --dirs or listing
    // request sends "." itself.
    s.paths = o.paths;
    if (s.paths.empty() && (o.recurse || o.xfer_dirs > 0 || o.list_only))
        s.paths.emplace_back(".");
    s.files_from_socket = o.files_from_socket;
    s.files_from_content = ctx.files_from_content;
    s.eol_nulls = o.eol_nulls != 0;

    s.io_timeout = std::chrono::seconds(ctx.io_timeout);
    s.bwlimit_kib = daemon::effective_bwlimit(o.bwlimit, ctx.defaults.bwlimit_kib);
    s.verbose = o.verbose;
    s.info_name = o.info_levels[6]; // INFO_NAME
    s.debug_deltasum = o.debug_levels[7]; // DEBUG_DELTASUM
    s.stdout_format_has_i = o.stdout_format_has_i;
    return s;
}

// The transfer log (upstream log_item(FLOG) with the daemon's log format).
class TransferLog {
public:
    TransferLog(const PullContext& ctx, const daemon::ServerOptions& o, const StartedProtocol& started)
        : format_(transfer::resolve_transfer_log_format(ctx.defaults.log_file_format, ctx.module.transfer_logging,
                                                         ctx.module.log_format))
    {
        session_.remote_addr = ctx.session.addr;
        session_.remote_host = ctx.module.reverse_lookup ? ctx.session.host : std::string("UNDETERMINED");
        session_.module_name = ctx.module.name;
        session_.module_path = ctx.module.path;
        session_.auth_user = ctx.session.auth_user;
        session_.pid = static_cast<long>(::getpid());
        session_.am_sender = true;
        session_.preserve_mtimes = o.preserve_mtimes != 0;
        session_.receiver_symlink_times = started.plan.receiver_symlink_times;
        session_.always_checksum = o.always_checksum != 0;
        session_.checksum_length = protocol::checksum_length(
            o.always_checksum ? started.checksums.file_list : started.checksums.transfer.kind);
        preserve_uid_ = o.preserve_uid != 0;
        preserve_gid_ = o.preserve_gid != 0;
        file_list_sum_ = started.checksums.file_list;
        transfer_sum_ = started.checksums.transfer.kind;
    }

    [[nodiscard]] bool enabled() const noexcept { return format_.logs_items(); }

    [[nodiscard]] bool format_has_i() const noexcept { return format_.has_i; }

    void item(const transfer::SentLogItem& sent)
    {
        const transfer::SentFile& f = sent.file;
        const std::string& pathname = sent.pathname;
        transfer::LogItem it;
        it.op = "send";
        it.name = f.entry.name;
        if (!pathname.empty())
            it.sender_dir = pathname;
        it.daemon_dir = std::string();
        it.mode = f.entry.mode;
        it.length = f.entry.size;
        it.mtime = static_cast<std::time_t>(f.entry.mtime);
        if (preserve_uid_)
            it.uid = f.entry.uid;
        if (preserve_gid_)
            it.gid = f.entry.gid;
        it.symlink_target = f.entry.symlink_target;
        it.hlink = std::string(sent.hlink);
        it.iflags = sent.iflags;
        it.bytes_written = sent.bytes_written;
        it.bytes_read = sent.bytes_read;
        // %C: upstream log.c shows the --checksum sum of the file list, or the sum sent
        // after the file's data.
        if (session_.always_checksum && !f.entry.checksum.empty())
            it.file_sum_hex = protocol::checksum_hex(file_list_sum_, std::as_bytes(std::span(f.entry.checksum)));
        if (!sent.file_sum.empty())
            it.xfer_sum_hex = protocol::checksum_hex(transfer_sum_, sent.file_sum);
        session_.now = std::time(nullptr);
        const transfer::LogLine line = transfer::render_log_format(*format_.format, session_, it);
        if (!line.ok())
            throw protocol::ProtocolError(ExitCode::MessageIo, line.error);
        spdlog::info("{}", daemon_log_text(line.text));
    }

private:
    transfer::TransferLogFormat format_;
    transfer::LogSession session_;
    bool preserve_uid_ = false;
    bool preserve_gid_ = false;
    protocol::ChecksumKind file_list_sum_ = protocol::ChecksumKind::Md5;
    protocol::ChecksumKind transfer_sum_ = protocol::ChecksumKind::Md5;
};

[[noreturn]] void refuse_pull(const daemon::Rejection& refusal)
{
    daemon::UpstreamRole role = daemon::UpstreamRole::Sender;
    const daemon::UpstreamSite site = daemon::policy_refusal_site(refusal, role);
    throw protocol::ProtocolError(static_cast<ExitCode>(refusal.exit_code), refusal.message, site);
}

} // namespace

daemon::UpstreamSite pull_error_site(int code, std::string_view message)
{
    struct TextSite {
        ExitCode code;
        std::string_view prefix;
        daemon::UpstreamSite site;
    };
    static constexpr TextSite kSites[] = {
        // io.c:read_sum_head, one exit per field check.
        {ExitCode::Protocol, "Invalid checksum count", {"io.c", 2202}},
        {ExitCode::Protocol, "Invalid block length", {"io.c", 2223}},
        {ExitCode::Protocol, "Invalid zero block length", {"io.c", 2228}},
        {ExitCode::Protocol, "Invalid checksum length", {"io.c", 2244}},
        {ExitCode::Protocol, "Invalid remainder length", {"io.c", 2250}},
        // io.c:read_ndx's check that an index fits a signed int.
        {ExitCode::Protocol, "Invalid file index: ", {"io.c", 2585}},
        // log.c:log_formatted.
        {ExitCode::MessageIo, "log-format string is WAY too long!", {"log.c", 553}},
        {ExitCode::MessageIo, "buffer overflow expanding %", {"log.c", 807}},
    };
    for (const TextSite& t : kSites)
        if (code == protocol::to_int(t.code) && message.starts_with(t.prefix))
            return t.site;
    switch (static_cast<ExitCode>(code)) {
    case ExitCode::Protocol:
        return {"sender.c", 647}; // send_files' receive_sums failure
    case ExitCode::FileIo:
        return {"sender.c", 733}; // send_files' fstat failure
    case ExitCode::Syntax:
        return {"flist.c", 2665}; // send_file_list's relative ".." refusal
    case ExitCode::Malloc:
        return {"util2.c", 80};
    case ExitCode::MessageIo:
        return {"log.c", 503};
    default:
        return {"main.c", 1338};
    }
}

void configure_sender_fs(transfer::ModuleFs& fs, const daemon::ServerOptions& options)
{
    // Upstream: flist.c:link_stat uses x_lstat/x_stat, which read the record when am_root < 0.
    fs.set_fake_super(options.am_root < 0);
    // Upstream: clientserver.c:rsync_module lets the module's "open noatime" override the
    // client's --open-noatime; the sender's opens then carry O_NOATIME.
    fs.set_open_noatime(options.open_noatime != 0);
}

int run_pull(const PullContext& ctx, daemon::ServerOptions& options, UniqueFd client)
{
    const int effective_timeout = ctx.io_timeout;
    transfer::Connection conn({client.get(), std::chrono::seconds(effective_timeout),
                               daemon::effective_bwlimit(options.bwlimit, ctx.defaults.bwlimit_kib), "sender",
                               ctx.session.pending_input});

    StartedProtocol started;
    try {
        auto start = start_protocol(conn, options);
        if (auto* failed = std::get_if<StartFailure>(&start)) {
            // Not multiplexing yet: only the log hears about it, the client sees a close.
            if (!failed->log_text.empty())
                spdlog::error("{}", daemon_log_text(daemon::without_newline(failed->log_text)));
            spdlog::error("{}", daemon::without_newline(daemon::rsync_error_line(
                                    failed->exit_code, {"compat.c", 406}, daemon::UpstreamRole::Sender)));
            return failed->exit_code;
        }
        started = std::get<StartedProtocol>(start);
    } catch (const protocol::ProtocolError& e) {
        spdlog::error("{}", daemon_log_text(e.what()));
        return protocol::to_int(e.code());
    }
    const int protocol = started.plan.protocol;

    // Upstream start_server: multiplex our output, tell a 31+ client our timeout, and
    // multiplex the input too when the client sends messages (protocol 30+).
    transfer::Reporter report(conn, protocol, "sender", log_to_daemon);
    EndingContext ending{conn, report, protocol, true, std::chrono::seconds(effective_timeout)};
    conn.start_mux_out();
    report.set_can_send(true);
    if (effective_timeout > 0 && protocol >= 31)
        conn.send_message(protocol::MsgCode::IoTimeout, int32_le(effective_timeout));
    if (options.need_messages_from_generator)
        conn.start_mux_in();

    transfer::ModuleFs fs(std::move(ctx.confined.root));
    configure_sender_fs(fs, options);
    ctx.filter_files.confined(fs);

    const transfer::FilterOptions fo =
        session_filter_options(options, transfer::FilterSide::Sender, "sender", protocol, ctx.confined.chrooted);
    transfer::FilterSet filters(fo, ctx.filter_files);
    const transfer::SessionChmod chmod = session_chmod(options, ctx.module.outgoing_chmod, true);

    transfer::SenderOptions sopt = sender_options(options, started, ctx);
    TransferLog tlog(ctx, options, started);
    sopt.logfile_format_has_i = tlog.format_has_i();
    // Outlives the try block: an error exit still logs the sender's totals.
    std::unique_ptr<transfer::Sender> sender;
    ending.sender_totals = [&conn, &sender] {
        return transfer::session_totals_line(static_cast<std::int64_t>(conn.total_written()),
                                             static_cast<std::int64_t>(conn.total_read()),
                                             sender ? sender->total_size() : 0);
    };

    try {
        // Upstream order: the module's rules (read before confinement), the client's option
        // rules, then its wire list (recv_filter_list, inside the sender).
        transfer::load_module_filters(filters, transfer::ModuleFilterConfig{ctx.module.filter, ctx.module.include_from,
                                                                          ctx.module.include, ctx.module.exclude_from,
                                                                          ctx.module.exclude, ctx.module.path});
        for (const daemon::FilterOption& f : options.filters)
            transfer::add_option_rule(filters, option_rule_kind(f.kind), f.text, ctx.module_dirlen);

        // Upstream io.c:read_args globs every path argument in the module directory.
        std::vector<std::string> expanded;
        for (const std::string& arg : sopt.paths)
            transfer::glob_module_argument(fs, filters, arg, expanded);
        sopt.paths = std::move(expanded);

        transfer::Sender::Services services{conn,
                                            fs,
                                            filters,
                                            report,
                                            [](std::uint32_t id) { return user_name_of(id); },
                                            [](std::uint32_t id) { return group_name_of(id); },
                                            ctx.confined.chrooted,
                                            ctx.module.name,
                                            {},
                                            {}};
        if (tlog.enabled())
            services.log_item = [&tlog](const transfer::SentLogItem& item) { tlog.item(item); };
        if (ctx.refusal)
            services.after_filter_list = [&ctx] { refuse_pull(*ctx.refusal); };
        sender = std::make_unique<transfer::Sender>(sopt, std::move(services),
                                                    chmod.all.empty() ? nullptr : &chmod.all);
        transfer::WireFilterParams wire{options.prune_empty_dirs != 0, options.delete_mode != 0,
                                        options.cvs_exclude != 0};
        const transfer::SenderResult result = sender->run(wire);
        // Upstream log.c:log_exit: a sender logs its totals whatever its exit code.
        spdlog::info("{}", transfer::session_totals_line(static_cast<std::int64_t>(result.total_written),
                                                         static_cast<std::int64_t>(result.total_read),
                                                         result.total_size));
        return end_after_completion(ending, result.exit_code, !result.input_abandoned);
    } catch (const transfer::PeerExit& e) {
        return end_after_peer_exit(ending, e.code, {"io.c", 1892});
    } catch (const protocol::ProtocolError& e) {
        const int code = protocol::to_int(e.code());
        const daemon::UpstreamSite site = e.site().file ? e.site() : pull_error_site(code, e.what());
        std::string message = e.what();
        if (!message.empty() && message.back() != '\n')
            message += '\n';
        return end_with_fatal_error(ending, message, code, site);
    } catch (const std::bad_alloc&) {
        return end_with_fatal_error(ending, "ERROR: out of memory in the sender\n",
                                    protocol::to_int(ExitCode::Malloc), {"util2.c", 80});
    } catch (const std::exception& e) {
        // A failure of our own (not the peer's): say so in the log, end like a broken stream.
        spdlog::error("internal error in the sender: {}", e.what());
        return end_with_fatal_error(ending, "", protocol::to_int(ExitCode::StreamIo), {"io.c", 285});
    }
}

} // namespace ocr::worker
