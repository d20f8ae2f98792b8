// SPDX-License-Identifier: MIT
// The real GroupLookup for "@group" auth rules: the system user and group databases (NSS).
#pragma once

#include "daemon/auth_rules.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// @brief Looks users' groups up in the system databases (getpwnam_r, getpwuid_r,
///        getgrouplist, getgrgid_r).
///
/// These calls may block on NSS (LDAP, sssd, ...), so the daemon should run this off its
/// event loop. Thread-safe: it keeps no state and uses only the reentrant interfaces.
class SystemGroupLookup final : public GroupLookup {
public:
    /// @brief Group names of @p user, primary group first, as upstream collects them:
    ///        the name is mapped to a uid, the uid back to its passwd entry (whose name and
    ///        primary group are used), then every group id is mapped to a name; ids
    ///        without a name are left out. (Upstream: uidlist.c:user_to_uid,
    ///        uidlist.c:getallgroups, uidlist.c:gid_to_group.)
    /// @param user the name the client sent.
    /// @return nullopt when the user is unknown (or empty, or contains a NUL) or a lookup
    ///         fails.
    std::optional<std::vector<std::string>> groups_of_user(std::string_view user) override;
};

} // namespace ocr::daemon
