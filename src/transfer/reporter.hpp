// SPDX-License-Identifier: MIT
// Messages a server session produces: to the client (multiplexed), to the daemon log, or
// both, with upstream's routing and wording rules, plus the session's error state (the
// I/O error bits and whether a transfer error was reported) and the exit code it implies.
#pragma once

#include "transfer/connection.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief Upstream's log codes (rsync.h enum logcode): where a message goes.
enum class LogCode {
    ErrorXfer, ///< FERROR_XFER: a file could not be transferred (client + log)
    Info,      ///< FINFO (client + log)
    Error,     ///< FERROR (client + log)
    Warning,   ///< FWARNING (client + log)
    Log,       ///< FLOG: the daemon log only
    Client,    ///< FCLIENT: the client only
};

/// Upstream's io_error bits (rsync.h IOERR_*).
inline constexpr int kIoErrorGeneral = 1;
inline constexpr int kIoErrorVanished = 2;
inline constexpr int kIoErrorDelLimit = 4;

/// @brief Routes messages; the daemon log is reached through a callback (the transfer
///        layer does not know the logging library).
///
/// Safe to use from two threads at once (a push's reader and writer): messages are
/// emitted one at a time, and the error state is atomic.
class Reporter {
public:
    enum class LogLevel { Info, Warning, Error };
    using LogSink = std::function<void(LogLevel, std::string_view)>;

    Reporter(Connection& conn, int protocol, std::string who, LogSink log);

    /// @brief One message; @p text ends with a newline like upstream's. An ErrorXfer
    ///        message also marks the session as having a transfer error.
    void emit(LogCode code, std::string_view text);
    /// @brief upstream rsyserr: "rsync: [who] TEXT: strerror (errno)\n".
    void syserr(LogCode code, int err, std::string_view text);

    void add_io_error(int bits) noexcept { io_error_.fetch_or(bits, std::memory_order_relaxed); }
    [[nodiscard]] int io_error() const noexcept { return io_error_.load(std::memory_order_relaxed); }
    /// @brief Whether an ErrorXfer message was emitted (upstream log.c got_xfer_error).
    [[nodiscard]] bool got_xfer_error() const noexcept { return got_xfer_error_.load(std::memory_order_relaxed); }
    /// @brief The exit code a run that otherwise succeeded ends with (upstream
    ///        cleanup.c:_exit_cleanup for code 0): 25 for the deletion limit, 24 for
    ///        vanished files, 23 for general I/O errors or a transfer error, else 0; the
    ///        later of these wins.
    [[nodiscard]] int partial_exit_code() const noexcept;
    [[nodiscard]] const std::string& who() const noexcept { return who_; }
    /// @brief Whether client messages can be sent now (multiplexing started).
    void set_can_send(bool can) noexcept { can_send_.store(can, std::memory_order_relaxed); }

private:
    Connection& conn_;
    int protocol_;
    std::string who_;
    LogSink log_;
    std::mutex emit_mutex_;
    std::atomic<int> io_error_{0};
    std::atomic<bool> got_xfer_error_{false};
    std::atomic<bool> can_send_{false};
};

} // namespace ocr::transfer
