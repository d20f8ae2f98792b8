// SPDX-License-Identifier: MIT
// The names a sending worker puts into its id lists (upstream uidlist.c uid_to_user /
// gid_to_group): whatever the worker's view of the user database says, which inside a
// chroot is the module's own etc/passwd and etc/group, if any.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ocr::worker {

/// @brief The user name of @p uid, or nullopt when it has none.
[[nodiscard]] std::optional<std::string> user_name_of(std::uint32_t uid);

/// @brief The group name of @p gid, or nullopt when it has none.
[[nodiscard]] std::optional<std::string> group_name_of(std::uint32_t gid);

} // namespace ocr::worker
