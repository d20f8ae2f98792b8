// SPDX-License-Identifier: MIT
// Messages a server session produces: to the client (multiplexed), to the daemon log, or
// both, with upstream's routing and wording rules, plus the session's I/O error bits.
#pragma once

#include "transfer/connection.hpp"

#include <functional>
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
class Reporter {
public:
    enum class LogLevel { Info, Warning, Error };
    using LogSink = std::function<void(LogLevel, std::string_view)>;

    Reporter(Connection& conn, int protocol, std::string who, LogSink log);

    /// @brief One message; @p text ends with a newline like upstream's.
    void emit(LogCode code, std::string_view text);
    /// @brief upstream rsyserr: "rsync: [who] TEXT: strerror (errno)\n".
    void syserr(LogCode code, int err, std::string_view text);

    void add_io_error(int bits) noexcept { io_error_ |= bits; }
    [[nodiscard]] int io_error() const noexcept { return io_error_; }
    [[nodiscard]] const std::string& who() const noexcept { return who_; }
    /// @brief Whether client messages can be sent now (multiplexing started).
    void set_can_send(bool can) noexcept { can_send_ = can; }

private:
    Connection& conn_;
    int protocol_;
    std::string who_;
    LogSink log_;
    int io_error_ = 0;
    bool can_send_ = false;
};

} // namespace ocr::transfer
