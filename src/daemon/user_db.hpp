// SPDX-License-Identifier: MIT
// User and group name resolution the daemon needs for "uid" / "gid" (blocking: NSS).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// @brief Upstream uidlist.c:user_to_uid: a name, or (if @p numbers_ok) all digits.
[[nodiscard]] std::optional<uid_t> user_to_uid(std::string_view name, bool numbers_ok);

/// @brief Upstream uidlist.c:group_to_gid.
[[nodiscard]] std::optional<gid_t> group_to_gid(std::string_view name, bool numbers_ok);

/// @brief Every group of @p uid (getgrouplist over its passwd entry), for `gid = *`.
/// @return the groups, or nullopt with @p error set to upstream's text.
[[nodiscard]] std::optional<std::vector<gid_t>> all_groups_of(uid_t uid, std::string& error);

/// @brief The group a root daemon uses when a module sets no `gid`: upstream's
///        NOBODY_GROUP, "nobody" where that group exists, else "nogroup".
[[nodiscard]] std::string nobody_group_name();

/// @brief The user a root daemon uses when a module sets no `uid` (upstream NOBODY_USER).
inline constexpr const char* kNobodyUser = "nobody";

} // namespace ocr::daemon
