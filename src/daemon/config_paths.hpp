// SPDX-License-Identifier: MIT
// Load-time expansion of the motd and secrets file paths, so they can be read ahead.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::daemon {

/// @brief The daemon environment a config is loaded with.
using Environment = std::map<std::string, std::string, std::less<>>;

/// @brief The "motd file" value expanded as upstream does when it sends the motd: from
///        the daemon environment only (no RSYNC_* variable is set yet at that point;
///        Upstream: clientserver.c:exchange_protocols).
/// @param raw the configured value.
/// @param env the daemon environment.
/// @return the path; empty when @p raw is empty or its expansion is too long.
[[nodiscard]] std::string resolve_motd_path(std::string_view raw, const Environment& env);

/// @brief The "secrets file" value expanded as upstream does at authentication time:
///        RSYNC_MODULE_NAME is the module's name, other variables come from the daemon
///        environment (Upstream: clientserver.c:rsync_module sets RSYNC_MODULE_NAME,
///        RSYNC_HOST_NAME and RSYNC_HOST_ADDR before authenticate.c:check_secret).
/// @param raw the configured value.
/// @param module_name the module's name.
/// @param env the daemon environment.
/// @return the path (empty when unset), or nullopt when it refers to RSYNC_HOST_NAME or
///         RSYNC_HOST_ADDR (known only per connection) or its expansion is too long.
[[nodiscard]] std::optional<std::string>
resolve_secrets_path(std::string_view raw, std::string_view module_name, const Environment& env);

} // namespace ocr::daemon
