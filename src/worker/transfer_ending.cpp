// SPDX-License-Identifier: MIT
#include "worker/transfer_ending.hpp"

#include "protocol/exit_code.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/log_format.hpp"
#include "worker/session_parts.hpp"

#include <spdlog/spdlog.h>

#include <thread>

namespace ocr::worker {
namespace {

// Reads and discards everything until the client closes, answering nothing (upstream
// io.c:noop_io_until_death, which gives up after the I/O timeout or 60 s). The client's
// own MSG_ERROR_EXIT ends the wait: upstream's read_a_msg exits on it.
struct ClientExited {};

class Discard final : public transfer::MessageHandler {
public:
    void on_message(protocol::MsgCode code, std::string_view) override
    {
        if (code == protocol::MsgCode::ErrorExit)
            throw ClientExited{};
    }
};

void noop_io_until_death(const EndingContext& ctx)
{
    Discard discard;
    ctx.conn.set_handler(&discard);
    ctx.conn.set_io_timeout(ctx.io_timeout.count() > 0 ? ctx.io_timeout : std::chrono::seconds(60));
    std::byte buf[1024];
    try {
        for (;;)
            ctx.conn.read_exact(buf);
    } catch (const ClientExited&) {
        // The client answered our exit with its own.
    } catch (const protocol::ProtocolError& e) {
        // The other expected way out: the client closed (or went silent for too long).
        spdlog::debug("session end: {}", e.what());
    }
    ctx.conn.set_handler(nullptr);
}

// Upstream sends MSG_ERROR_EXIT only for codes that do not mean the connection is gone.
bool connection_still_usable(int code)
{
    using protocol::ExitCode;
    return code != protocol::to_int(ExitCode::SocketIo) && code != protocol::to_int(ExitCode::StreamIo) &&
           code != protocol::to_int(ExitCode::Signal1) && code != protocol::to_int(ExitCode::Timeout);
}

// The last part of _exit_cleanup: MSG_ERROR_EXIT and the wait for the client, or (for a
// sender below protocol 31) nothing at all: such a sender does not even flush.
void exit_exchange(const EndingContext& ctx, int code, bool send_exit_message, bool wait_for_client = true)
{
    if (ctx.shutting_down) {
        ctx.conn.flush();
        if (code != 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return;
    }
    if (code == 0 || !connection_still_usable(code)) {
        if (code == 0)
            ctx.conn.flush();
        if (!wait_for_client)
            ctx.conn.reset_on_close_if_unread();
        return;
    }
    if (ctx.protocol >= 31 || !ctx.am_sender) {
        // A sender that had stopped reading (an empty file list) never delivers this
        // message: upstream's noop_io_until_death returns at once for it, and neither it
        // nor close_all flushes what send_msg buffered.
        if (send_exit_message && (wait_for_client || !ctx.am_sender))
            ctx.conn.send_message(protocol::MsgCode::ErrorExit, int32_le(code));
        if (!ctx.am_sender)
            ctx.conn.flush();
        if (wait_for_client)
            noop_io_until_death(ctx);
    } else if (!ctx.am_sender) {
        ctx.conn.flush();
    }
    // Upstream: "if (am_server && exit_code) msleep(100)" before closing.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!wait_for_client)
        ctx.conn.reset_on_close_if_unread();
}

// Upstream log.c:log_exit: a sender logs its totals however it exits.
void log_sender_totals(const EndingContext& ctx)
{
    if (ctx.am_sender && ctx.sender_totals)
        ctx.report.emit(transfer::LogCode::Log, ctx.sender_totals());
}

} // namespace

std::string daemon_log_text(std::string_view line)
{
    // Upstream: log.c:rwrite's msg[2048] buffer, then logit's strlen().
    constexpr std::size_t kMaxLogMessage = 2047;
    line = line.substr(0, kMaxLogMessage);
    line = line.substr(0, line.find('\0'));
    return transfer::escape_log_file_text(line);
}

namespace {

daemon::UpstreamRole ending_role(const EndingContext& ctx)
{
    if (ctx.role)
        return *ctx.role;
    return ctx.am_sender ? daemon::UpstreamRole::Sender : daemon::UpstreamRole::Receiver;
}

} // namespace

int end_with_fatal_error(const EndingContext& ctx, const std::string& message, int code, daemon::UpstreamSite site)
{
    const bool usable = connection_still_usable(code);
    // Errors about the connection itself go only to the log: upstream points them at
    // stderr ("Don't write errors on a dead socket"), which a daemon has closed.
    ctx.report.set_can_send(usable || code == protocol::to_int(protocol::ExitCode::StreamIo));
    ctx.conn.discard_unsent_data();
    if (!message.empty())
        ctx.report.emit(transfer::LogCode::Error, message);
    log_sender_totals(ctx);
    const daemon::UpstreamRole role = ending_role(ctx);
    ctx.report.emit(code == protocol::to_int(protocol::ExitCode::Vanished) ? transfer::LogCode::Warning
                                                                           : transfer::LogCode::Error,
                    daemon::rsync_error_line(code, site, role));
    try {
        exit_exchange(ctx, code, true);
    } catch (const protocol::ProtocolError& e) {
        spdlog::debug("session end: {}", e.what());
    }
    return code;
}

int end_after_completion(const EndingContext& ctx, int code, bool wait_for_client)
{
    try {
        exit_exchange(ctx, code, true, wait_for_client);
    } catch (const protocol::ProtocolError& e) {
        spdlog::debug("session end: {}", e.what());
    }
    return code;
}

int end_after_peer_exit(const EndingContext& ctx, int code, daemon::UpstreamSite site)
{
    // The client is exiting: upstream's messages would only reach a closing socket.
    ctx.report.set_can_send(false);
    // Upstream: exit_cleanup(0) (an empty MSG_ERROR_EXIT) still applies the error state;
    // being the end of the run, it then logs no error line.
    const bool end_of_run = code == 0;
    if (end_of_run)
        code = ctx.report.partial_exit_code();
    log_sender_totals(ctx);
    const daemon::UpstreamRole role = ending_role(ctx);
    if (!end_of_run)
        ctx.report.emit(transfer::LogCode::Error, daemon::rsync_error_line(code, site, role));
    try {
        exit_exchange(ctx, code, false);
    } catch (const protocol::ProtocolError& e) {
        spdlog::debug("session end: {}", e.what());
    }
    return code;
}

} // namespace ocr::worker
