// SPDX-License-Identifier: MIT
// The module's secrets file: strict-modes checks and the user/@group password lookup.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// @brief A secrets file as captured by the config loader (read through a confined,
///        no-symlink open, then fstat()ed on the same descriptor).
struct SecretsFile {
    std::string contents; ///< the file's bytes
    mode_t mode = 0;      ///< st_mode of the opened file
    uid_t uid = 0;        ///< st_uid of the opened file
};

/// @brief Outcome of a secrets check; each value but Ok maps to upstream's reason text.
enum class SecretStatus {
    Ok,
    NoSecretsFile,       ///< no path configured, or the file could not be opened
    IgnoringSecretsFile, ///< strict modes rejected the file
    InvalidUsername,     ///< the user name starts with '#'
    SecretNotFound,      ///< no line for the user (or the matched group)
    PasswordMismatch,    ///< lines were found but none gave the client's response
};

/// @brief Upstream's reason text for @p status ("no secrets file", "ignoring secrets
///        file", "invalid username", "secret not found", "password mismatch"); empty for
///        Ok. (Upstream: authenticate.c:check_secret.)
[[nodiscard]] std::string_view secret_status_text(SecretStatus status) noexcept;

/// @brief The strict-modes check of a secrets file.
/// @param file the captured file.
/// @param strict_modes the module's "strict modes" setting.
/// @param daemon_is_root whether the daemon's real uid is 0 (then the file must be
///        root-owned).
/// @return nullopt if acceptable, else the exact log line upstream writes.
[[nodiscard]] std::optional<std::string> secrets_mode_problem(const SecretsFile& file,
                                                              bool strict_modes,
                                                              bool daemon_is_root);

/// @brief Decides whether the client's response matches a password; called with each
///        candidate password in file order. Must compare in constant time.
using PasswordMatcher = std::function<bool(std::string_view password)>;

/// @brief What check_secret() concluded, plus any log lines to write before the final
///        "auth failed ..." line.
struct SecretCheckResult {
    SecretStatus status = SecretStatus::SecretNotFound;
    std::vector<std::string> log_lines;
};

/// @brief Looks the user (and the group that matched an "@group" rule) up in the
///        secrets file and asks @p matches about each candidate password.
///
/// Matches upstream line for line (Upstream: authenticate.c:check_secret): the file is
/// read in fgets() chunks of at most 1023 bytes (a longer line continues as a new "line");
/// each chunk is cut at a NUL and then at its first CR or LF after skipping leading ones;
/// a chunk starting with '@' is a group line "@group:password", anything else a user line
/// "user:password" (so "#" lines are comments unless a user is called "#...", which is
/// refused); a line counts when it starts with the exact name followed by ':'. The first
/// matching password wins; after one mismatch that name (user or group) is not looked at
/// again, but the other one still is.
/// @param file the captured file, or null when it could not be opened.
/// @param path the configured "secrets file" value (empty: none).
/// @param strict_modes the module's "strict modes" setting.
/// @param daemon_is_root whether the daemon's real uid is 0.
/// @param user the user name from the client's reply.
/// @param group the group that matched an "@group" rule, if any.
/// @param matches tells whether a password yields the client's response.
/// @return the status and the log lines to write first.
[[nodiscard]] SecretCheckResult check_secret(const SecretsFile* file, std::string_view path,
                                             bool strict_modes, bool daemon_is_root,
                                             std::string_view user,
                                             const std::optional<std::string>& group,
                                             const PasswordMatcher& matches);

} // namespace ocr::daemon
