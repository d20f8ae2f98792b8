// SPDX-License-Identifier: MIT
// Phrases for exit codes; the texts are what rsync clients already show users
// (upstream log.c rerr_names), so ours must be identical.
#include "protocol/exit_code.hpp"

namespace ocr::protocol {

std::string_view exit_code_phrase(int code) noexcept
{
    switch (static_cast<ExitCode>(code)) {
    case ExitCode::Syntax: return "syntax or usage error";
    case ExitCode::Protocol: return "protocol incompatibility";
    case ExitCode::FileSelect: return "errors selecting input/output files, dirs";
    case ExitCode::Unsupported: return "requested action not supported";
    case ExitCode::StartClient: return "error starting client-server protocol";
    case ExitCode::SocketIo: return "error in socket IO";
    case ExitCode::FileIo: return "error in file IO";
    case ExitCode::StreamIo: return "error in rsync protocol data stream";
    case ExitCode::MessageIo: return "errors with program diagnostics";
    case ExitCode::Ipc: return "error in IPC code";
    case ExitCode::Crashed: return "sibling process crashed";
    case ExitCode::Terminated: return "sibling process terminated abnormally";
    case ExitCode::Signal1: return "received SIGUSR1";
    case ExitCode::Signal: return "received SIGINT, SIGTERM, or SIGHUP";
    case ExitCode::WaitChild: return "waitpid() failed";
    case ExitCode::Malloc: return "error allocating core memory buffers";
    case ExitCode::Partial: return "some files/attrs were not transferred (see previous errors)";
    case ExitCode::Vanished: return "some files vanished before they could be transferred";
    case ExitCode::DelLimit: return "the --max-delete limit stopped deletions";
    case ExitCode::Timeout: return "timeout in data send/receive";
    case ExitCode::ConTimeout: return "timeout waiting for daemon connection";
    case ExitCode::CmdFailed: return "remote shell failed";
    case ExitCode::CmdKilled: return "remote shell killed";
    case ExitCode::CmdRun: return "remote command could not be run";
    case ExitCode::CmdNotFound: return "remote command not found";
    case ExitCode::Ok: break;
    }
    return "unexplained error";
}

} // namespace ocr::protocol
