// SPDX-License-Identifier: MIT
#include "daemon/user_db.hpp"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <string>

namespace ocr::daemon {
namespace {

bool all_digits(std::string_view s) noexcept
{
    if (s.empty())
        return false;
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    return true;
}

// Upstream uidlist.c:id_parse: digits read as an unsigned long, silently wrapping.
unsigned long parse_id(std::string_view s) noexcept
{
    unsigned long v = 0;
    for (char c : s)
        v = v * 10 + static_cast<unsigned long>(c - '0');
    return v;
}

} // namespace

std::optional<uid_t> user_to_uid(std::string_view name, bool numbers_ok)
{
    if (name.empty())
        return std::nullopt;
    if (numbers_ok && all_digits(name))
        return static_cast<uid_t>(parse_id(name));
    const std::string n(name);
    passwd pw{};
    passwd* result = nullptr;
    std::string buf(16384, '\0');
    while (getpwnam_r(n.c_str(), &pw, buf.data(), buf.size(), &result) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (!result)
        return std::nullopt;
    return result->pw_uid;
}

std::optional<gid_t> group_to_gid(std::string_view name, bool numbers_ok)
{
    if (name.empty())
        return std::nullopt;
    if (numbers_ok && all_digits(name))
        return static_cast<gid_t>(parse_id(name));
    const std::string n(name);
    group gr{};
    group* result = nullptr;
    std::string buf(16384, '\0');
    while (getgrnam_r(n.c_str(), &gr, buf.data(), buf.size(), &result) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (!result)
        return std::nullopt;
    return result->gr_gid;
}

std::optional<std::vector<gid_t>> all_groups_of(uid_t uid, std::string& error)
{
    passwd pw{};
    passwd* result = nullptr;
    std::string buf(16384, '\0');
    while (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (!result) {
        // Upstream uidlist.c:getallgroups wording.
        error = "getpwuid failed";
        return std::nullopt;
    }
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    while (getgrouplist(result->pw_name, result->pw_gid, groups.data(), &count) < 0) {
        if (count > 65536) {
            error = "getgrouplist failed";
            return std::nullopt;
        }
        groups.resize(static_cast<std::size_t>(count));
    }
    groups.resize(static_cast<std::size_t>(count));
    // The primary group goes first: it becomes the process's gid (upstream getallgroups).
    for (std::size_t i = 1; i < groups.size(); ++i)
        if (groups[i] == result->pw_gid)
            std::swap(groups[0], groups[i]);
    return groups;
}

std::string nobody_group_name()
{
    return group_to_gid("nobody", false) ? "nobody" : "nogroup";
}

} // namespace ocr::daemon
