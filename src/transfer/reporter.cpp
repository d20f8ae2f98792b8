// SPDX-License-Identifier: MIT
// Routing as upstream log.c:rwrite does it for a daemon server: everything but FCLIENT goes
// to the daemon log, everything but FLOG to the client, with protocol < 30 clients getting
// errors as MSG_ERROR_XFER and warnings as MSG_INFO; an FERROR_XFER message sets
// got_xfer_error, which cleanup.c:_exit_cleanup turns into RERR_PARTIAL.
#include "transfer/reporter.hpp"

#include <cstring>

namespace ocr::transfer {

Reporter::Reporter(Connection& conn, int protocol, std::string who, LogSink log)
    : conn_(conn), protocol_(protocol), who_(std::move(who)), log_(std::move(log))
{
}

int Reporter::partial_exit_code() const noexcept
{
    // Upstream: cleanup.c:_exit_cleanup, where each later test overrides the earlier.
    const int bits = io_error();
    if ((bits & kIoErrorGeneral) || got_xfer_error())
        return 23;
    if (bits & kIoErrorVanished)
        return 24;
    if (bits & kIoErrorDelLimit)
        return 25;
    return 0;
}

void Reporter::emit(LogCode code, std::string_view text)
{
    // Upstream: log.c:rwrite sets got_xfer_error whenever a server handles FERROR_XFER,
    // whether or not the message can still reach the client.
    if (code == LogCode::ErrorXfer)
        got_xfer_error_.store(true, std::memory_order_relaxed);
    const std::lock_guard lock(emit_mutex_);
    if (code != LogCode::Client && log_) {
        std::string_view line = text;
        while (!line.empty() && line.back() == '\n')
            line.remove_suffix(1);
        const LogLevel level = code == LogCode::Info || code == LogCode::Log ? LogLevel::Info
                               : code == LogCode::Warning                   ? LogLevel::Warning
                                                                            : LogLevel::Error;
        log_(level, line);
    }
    if (code == LogCode::Log || !can_send_.load(std::memory_order_relaxed))
        return;
    protocol::MsgCode tag = protocol::MsgCode::Info;
    switch (code) {
    case LogCode::ErrorXfer:
        tag = protocol::MsgCode::ErrorXfer;
        break;
    case LogCode::Error:
        tag = protocol_ >= 30 ? protocol::MsgCode::Error : protocol::MsgCode::ErrorXfer;
        break;
    case LogCode::Warning:
        tag = protocol_ >= 30 ? protocol::MsgCode::Warning : protocol::MsgCode::Info;
        break;
    case LogCode::Info:
    case LogCode::Client:
        tag = protocol::MsgCode::Info;
        break;
    case LogCode::Log:
        return;
    }
    // Keep messages within what a peer accepts (upstream's BIGPATHBUFLEN buffer).
    conn_.send_message(tag, text.substr(0, Connection::kMaxMessage));
}

void Reporter::syserr(LogCode code, int err, std::string_view text)
{
    std::string line = "rsync: [" + who_ + "] ";
    line += text;
    line += ": ";
    line += std::strerror(err);
    line += " (" + std::to_string(err) + ")\n";
    emit(code, line);
}

} // namespace ocr::transfer
