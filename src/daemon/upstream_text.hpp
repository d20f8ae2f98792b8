// SPDX-License-Identifier: MIT
// Texts rsync clients print verbatim, including upstream's own source locations.
#pragma once

#include <string>
#include <string_view>

namespace ocr::daemon {

/// @brief Where upstream 3.5.0 (tag v3.5.0, as Debian ships it) ends a session for a given
///        reason. The client prints "at FILE(LINE)" from the server's error line, so a
///        daemon that must be indistinguishable from upstream names upstream's site.
struct UpstreamSite {
    const char* file;
    int line;
};

inline constexpr UpstreamSite kSiteModuleWriteOnly{"main.c", 951};      // do_server_sender
inline constexpr UpstreamSite kSiteRemoveSourceReadOnly{"main.c", 957}; // do_server_sender
inline constexpr UpstreamSite kSiteSenderWithoutArgs{"main.c", 961};    // do_server_sender
inline constexpr UpstreamSite kSiteModuleReadOnly{"main.c", 1185};      // do_server_recv
inline constexpr UpstreamSite kSiteOptionRefused{"clientserver.c", 1267}; // rsync_module
/// Upstream ends a session that fails to set itself up after "@RSYNCD: OK" here; our workers
/// (which set up after the front-end sent "OK") report their setup failures the same way.
inline constexpr UpstreamSite kSiteSessionSetup{"clientserver.c", 1267};

/// @brief Which process of upstream's daemon reports an error ("who_am_i()").
enum class UpstreamRole { Sender, Receiver };

/// @brief "rsync error: PHRASE (code N) at FILE(LINE) [Role=3.5.0]\n" (upstream log.c:log_exit).
[[nodiscard]] std::string rsync_error_line(int exit_code, UpstreamSite site, UpstreamRole role);

/// @brief The "[Role=VERSION]" part's role name.
[[nodiscard]] std::string_view role_name(UpstreamRole role) noexcept;

} // namespace ocr::daemon
