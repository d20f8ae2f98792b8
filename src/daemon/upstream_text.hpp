// SPDX-License-Identifier: MIT
// Texts rsync clients print verbatim, including upstream's own source locations.
#pragma once

#include "protocol/exit_code.hpp"

#include <string>
#include <string_view>

namespace ocr::daemon {

using UpstreamSite = protocol::UpstreamSite;
inline constexpr UpstreamSite kSiteModuleWriteOnly{"main.c", 951};      // do_server_sender
inline constexpr UpstreamSite kSiteRemoveSourceReadOnly{"main.c", 957}; // do_server_sender
inline constexpr UpstreamSite kSiteSenderWithoutArgs{"main.c", 961};    // do_server_sender
inline constexpr UpstreamSite kSiteModuleReadOnly{"main.c", 1185};      // do_server_recv
inline constexpr UpstreamSite kSiteOptionRefused{"clientserver.c", 1267}; // rsync_module
inline constexpr UpstreamSite kSiteAuthDigestUnsupported{"compat.c", 886}; // negotiate_daemon_auth
/// Upstream ends a session that fails to set itself up after "@RSYNCD: OK" here; our workers
/// (which set up after the front-end sent "OK") report their setup failures the same way.
inline constexpr UpstreamSite kSiteSessionSetup{"clientserver.c", 1267};

/// @brief Which process of upstream's daemon reports an error ("who_am_i()").
/// Upstream rsync.c:who_am_i's names of the daemon's processes: the sender, the receiving
/// process before it forks ("Receiver"), then its generator and its forked receiver.
enum class UpstreamRole { Sender, Receiver, Generator, ForkedReceiver };

/// @brief "rsync error: PHRASE (code N) at FILE(LINE) [Role=3.5.0]\n" (upstream log.c:log_exit).
[[nodiscard]] std::string rsync_error_line(int exit_code, UpstreamSite site, UpstreamRole role);

/// @brief The "[Role=VERSION]" part's role name.
[[nodiscard]] std::string_view role_name(UpstreamRole role) noexcept;

} // namespace ocr::daemon
