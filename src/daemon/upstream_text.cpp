// SPDX-License-Identifier: MIT
#include "daemon/upstream_text.hpp"

#include "daemon/handshake.hpp"
#include "protocol/exit_code.hpp"

namespace ocr::daemon {

std::string_view role_name(UpstreamRole role) noexcept
{
    switch (role) {
    case UpstreamRole::Sender: return "sender";
    case UpstreamRole::Generator: return "generator";
    case UpstreamRole::ForkedReceiver: return "receiver";
    case UpstreamRole::Receiver: break;
    }
    return "Receiver";
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
