// SPDX-License-Identifier: MIT
// Where ocrsyncd's log goes (log file, syslog or stderr) and in what shape.
#pragma once

#include <string>

namespace ocr::app {

/// @brief The destination of daemon log lines.
struct LogTarget {
    enum class Kind { File, Syslog, Stderr };
    Kind kind = Kind::Stderr;
    int fd = -1;                 ///< Kind::File: an open, append-mode descriptor (not owned)
    std::string syslog_tag = "rsyncd";
    int syslog_facility = 0;     ///< a LOG_* facility
    int verbosity = 0;           ///< -v count: 1+ logs debug lines
};

/// @brief Installs the default spdlog logger for @p target.
///
/// File lines look like upstream's: "YYYY/MM/DD HH:MM:SS [PID] message" (log.c:logit).
void init_logging(const LogTarget& target);

/// @brief Opens (creating) a log file for appending, as upstream does for "log file".
/// @return the descriptor, or -1 with errno set.
int open_log_file(const std::string& path);

/// @brief Encodes a target for the environment of child processes (workers).
[[nodiscard]] std::string encode_log_target(const LogTarget& target);
/// @brief The inverse of encode_log_target(); @p file_fd is used for Kind::File.
[[nodiscard]] LogTarget decode_log_target(const std::string& text, int file_fd);

/// Environment variable that tells workers where to log.
inline constexpr const char* kLogTargetEnv = "OCRSYNCD_LOG_TARGET";

} // namespace ocr::app
