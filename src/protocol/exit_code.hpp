// SPDX-License-Identifier: MIT
// rsync's process exit codes and the phrases both ends print for them.
#pragma once

#include <string_view>

namespace ocr::protocol {

/// @brief Exit codes shared by every rsync implementation (upstream errcode.h).
enum class ExitCode : int {
    Ok = 0,
    Syntax = 1,
    Protocol = 2,
    FileSelect = 3,
    Unsupported = 4,
    StartClient = 5,
    SocketIo = 10,
    FileIo = 11,
    StreamIo = 12,
    MessageIo = 13,
    Ipc = 14,
    Crashed = 15,
    Terminated = 16,
    Signal1 = 19,
    Signal = 20,
    WaitChild = 21,
    Malloc = 22,
    Partial = 23,
    Vanished = 24,
    DelLimit = 25,
    Timeout = 30,
    ConTimeout = 35,
    CmdFailed = 124,
    CmdKilled = 125,
    CmdRun = 126,
    CmdNotFound = 127,
};

/// @brief The phrase upstream prints for @p code ("error in socket IO", ...);
///        "unexplained error" for codes it has no phrase for (upstream log.c:log_exit).
[[nodiscard]] std::string_view exit_code_phrase(int code) noexcept;

[[nodiscard]] constexpr int to_int(ExitCode c) noexcept { return static_cast<int>(c); }

/// @brief Where upstream 3.5.0 (tag v3.5.0, as Debian ships it) exits for a given reason.
///        Clients print "at FILE(LINE)" from the server's error line, so a daemon that must be
///        indistinguishable from upstream names upstream's site.
struct UpstreamSite {
    const char* file = nullptr; ///< nullptr: no site known
    int line = 0;
};

} // namespace ocr::protocol
