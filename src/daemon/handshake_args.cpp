// SPDX-License-Identifier: MIT
// The handshake after "@RSYNCD: OK": the argument list (and the -s second batch), the
// option policy, and upstream's way of refusing after protocol setup
// (clientserver.c:rsync_module, main.c:start_server, do_server_sender, do_server_recv).
#include "daemon/handshake.hpp"

#include "daemon/module_identity.hpp"
#include "daemon/session_setup.hpp"
#include "protocol/mux.hpp"

namespace ocr::daemon {

std::string HandshakeMachine::where_from() const
{
    return log_host_ + " (" + settings_.addr + ")";
}

ServerParseContext HandshakeMachine::parse_context() const
{
    return module_parse_context(*module_, module_path_, module_chroot_, env_.daemon_is_root(), protocol_);
}

void HandshakeMachine::begin_args()
{
    module_path_ = expand(module_->path);
    module_chroot_ = module_uses_chroot(*module_, module_path_, env_.daemon_is_root());
    refused_ = module_refuse_set(*module_);
    // Upstream keeps one bound across both argument batches, set just before "OK".
    set_deadline(handshake_timeout_for(*module_));
    send("@RSYNCD: OK\n");
    arg_reader_.emplace(nul_args_, kMaxDaemonArgs, kMaxDaemonArgLen, 1);
    phase_ = Phase::Args;
}

bool HandshakeMachine::feed_args()
{
    const std::size_t used = arg_reader_->feed(input_);
    input_.erase(0, used);
    if (eof_seen_)
        arg_reader_->finish_at_eof();
    if (auto err = arg_reader_->error()) {
        // Upstream logs it and exits (RERR_PROTOCOL); the client only sees the close.
        log(*err, HandshakeLog::Level::Error);
        close();
        return false;
    }
    if (!arg_reader_->done())
        return false;
    std::vector<std::string> raw = arg_reader_->take();
    const ServerParseContext ctx = parse_context();
    DaemonArgContext ac;
    ac.module = module_->name;
    ac.sanitize_paths = ctx.sanitize_paths;
    if (phase_ == Phase::Args) {
        args_ = raw;
        ac.secluded_batch = false;
        ac.relative_paths = true; // upstream's relative_paths is still -1 (true) here
        first_processed_ = process_daemon_args(raw, ac);
        if (!first_processed_.ok) {
            log(first_processed_.error, HandshakeLog::Level::Error);
            close();
            return false;
        }
        log_unmatched_refusals();
        OptionParseResult parsed = parse_server_args(first_processed_.argv, refused_, ctx);
        if (parsed.ok && parsed.wants_second_batch) {
            first_batch_ = std::move(parsed);
            arg_reader_.emplace(true, kMaxDaemonArgs, kMaxDaemonArgLen, 0);
            phase_ = Phase::SecludedArgs;
            return true;
        }
        after_args(parsed, first_processed_);
        return step_ == Step::NeedInput && phase_ == Phase::AwaitExit;
    }
    secluded_args_ = raw;
    ac.secluded_batch = true;
    ac.relative_paths = first_batch_->options.relative_paths != 0;
    const ProcessedArgs processed = process_daemon_args(raw, ac);
    if (!processed.ok) {
        log(processed.error, HandshakeLog::Level::Error);
        close();
        return false;
    }
    log_unmatched_refusals();
    const OptionParseResult parsed = parse_secluded_args(processed.argv, refused_, ctx, *first_batch_);
    after_args(parsed, processed);
    return step_ == Step::NeedInput && phase_ == Phase::AwaitExit;
}

void HandshakeMachine::log_unmatched_refusals()
{
    // Upstream options.c:set_refuse_options runs at the start of every parse_arguments
    // call (twice when the arguments come in two batches) and logs each word of
    // "refuse options" that names no option.
    for (const std::string& word : refused_.unmatched)
        log("No match for refuse-options string \"" + word + "\"");
}

void HandshakeMachine::after_args(const OptionParseResult& parsed, const ProcessedArgs& processed)
{
    phase_ = Phase::Done;
    if (parsed.outcome == ParseOutcome::Exit) {
        // Upstream exits inside its option parser: logged only, the client sees a close.
        for (const auto& l : parsed.log_lines)
            log(l);
        log(parsed.error, HandshakeLog::Level::Error);
        close();
        return;
    }
    for (const auto& l : parsed.log_lines)
        log(l);
    if (parsed.log_request && processed.request) {
        const std::string user = auth_user_.empty() ? std::string() : auth_user_ + "@";
        log(std::string("rsync ") + (parsed.options.am_sender ? "on " : "to ") + *processed.request + " from " +
            user + where_from());
    }
    if (!parsed.ok) {
        reject_option(parsed);
        return;
    }
    ServerOptions options = parsed.options;
    const ProtocolSetupPlan plan = plan_protocol_setup(options);
    if (plan.rejection) {
        // setup_protocol exits before multiplexing starts: only the log hears about it.
        log(without_newline(plan.rejection->message), HandshakeLog::Level::Error);
        close();
        return;
    }
    // A sending daemon reads the client's filter list before it checks the module
    // (upstream main.c:start_server, do_server_sender): the worker does both, so that its
    // log counts the list's bytes and a client that closes instead fails as it does there.
    if (auto why = check_module_policy(options, read_only_, module_->write_only); why && !options.am_sender) {
        reject_policy(options, plan, *why);
        return;
    }
    step_ = Step::Dispatch;
}

void HandshakeMachine::end_with(const RefusalEnding& ending)
{
    send(ending.now);
    if (ending.await_exit_answer) {
        exit_watch_.emplace(ending.client_lists);
        exit_wait_after_ = ending.wait_after;
        phase_ = Phase::AwaitExit;
        // Upstream gives a client 60 s to answer; we give it less of a connection slot.
        set_deadline(10);
        return;
    }
    close(CloseAction{ending.wait_before, ending.late, ending.wait_after, ending.abandon_input});
}

void HandshakeMachine::reject_option(const OptionParseResult& parsed)
{
    // Upstream rsync_module: finish protocol setup with the options as far as they were
    // parsed, start multiplexing, send "rsync: <err_buf>", sleep, exit.
    ServerOptions options = parsed.options;
    const ProtocolSetupPlan plan = plan_protocol_setup(options);
    log("rsync: " + parsed.error, HandshakeLog::Level::Error);
    if (plan.rejection) {
        close();
        return;
    }
    const std::string setup = encode_setup(plan);
    RefusalEnding ending = option_refusal(plan, setup, options.am_sender != 0, parsed.files_from_seen,
                                          parsed.client_message);
    if (options.am_sender) {
        // Upstream log.c:log_exit: a sender logs its totals, then the error. Its
        // stats.total_written only counts what went through the multiplexed output (the
        // message frame); nothing was read that way. The frame is far below 1000 bytes,
        // so the number needs no thousands separator.
        log("sent " + std::to_string(ending.now.size() - setup.size()) + " bytes  received 0 bytes  total size 0");
    }
    log(without_newline(rsync_error_line(4, kSiteOptionRefused,
                                         options.am_sender ? UpstreamRole::Sender : UpstreamRole::Receiver)),
        HandshakeLog::Level::Error);
    end_with(std::move(ending));
}

void HandshakeMachine::reject_policy(ServerOptions& options, const ProtocolSetupPlan& plan, const Rejection& why)
{
    // Upstream main.c:start_server: setup, multiplexing, MSG_IO_TIMEOUT for protocol 31+
    // when a timeout is in force, then do_server_sender/do_server_recv refuse and
    // exit_cleanup ends the session.
    UpstreamRole role = UpstreamRole::Sender;
    const UpstreamSite site = policy_refusal_site(why, role);
    const int timeout = effective_timeout(options.io_timeout, module_->timeout);
    log(without_newline(why.message), HandshakeLog::Level::Error);
    log(without_newline(rsync_error_line(why.exit_code, site, role)), HandshakeLog::Level::Error);
    end_with(start_refusal(plan, encode_setup(plan), options.am_sender != 0, timeout, why.message, why.exit_code, site));
}

} // namespace ocr::daemon
