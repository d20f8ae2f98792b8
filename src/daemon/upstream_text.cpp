// SPDX-License-Identifier: MIT
#include "daemon/upstream_text.hpp"

#include "daemon/handshake.hpp"
#include "protocol/exit_code.hpp"

namespace ocr::daemon {

std::string_view role_name(UpstreamRole role) noexcept
{
    // Upstream log.c:who_am_i: the daemon's sending process is "sender"; its receiving
    // process, before it forks the generator, is "Receiver".
    return role == UpstreamRole::Sender ? "sender" : "Receiver";
}

std::string rsync_error_line(int exit_code, UpstreamSite site, UpstreamRole role)
{
    std::string out = "rsync error: ";
    out += protocol::exit_code_phrase(exit_code);
    out += " (code " + std::to_string(exit_code) + ") at " + site.file + "(" +
           std::to_string(site.line) + ") [" + std::string(role_name(role)) + "=" +
           kUpstreamVersion + "]\n";
    return out;
}

} // namespace ocr::daemon
