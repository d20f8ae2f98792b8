// SPDX-License-Identifier: MIT
// Implementation of SystemGroupLookup over the reentrant passwd/group interfaces.
#include "daemon/auth_group_lookup.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ocr::daemon {
namespace {

// Bounds on what a (possibly misconfigured) name service can make us allocate.
constexpr std::size_t kMaxEntryBuffer = 1 << 20;
constexpr int kMaxGroups = 65536; // Linux NGROUPS_MAX

std::size_t initial_buffer(int sysconf_name)
{
    const long hint = sysconf(sysconf_name);
    return hint > 0 ? std::min<std::size_t>(static_cast<std::size_t>(hint), kMaxEntryBuffer)
                    : 4096;
}

struct PasswdEntry {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
};

/// Calls a getXXX_r function, growing its scratch buffer on ERANGE. @p call returns the
/// function's error number and sets @p found.
template <typename Call>
bool call_with_buffer(std::size_t size, Call&& call)
{
    std::vector<char> buf(size);
    for (;;) {
        bool found = false;
        const int rc = call(buf.data(), buf.size(), found);
        if (rc == ERANGE && buf.size() < kMaxEntryBuffer) {
            buf.assign(std::min(buf.size() * 2, kMaxEntryBuffer), '\0');
            continue;
        }
        return rc == 0 && found;
    }
}

std::optional<PasswdEntry> passwd_by_name(const std::string& name)
{
    PasswdEntry entry;
    const bool ok = call_with_buffer(initial_buffer(_SC_GETPW_R_SIZE_MAX),
                                     [&](char* buf, std::size_t size, bool& found) {
                                         passwd pw{};
                                         passwd* res = nullptr;
                                         const int rc =
                                             getpwnam_r(name.c_str(), &pw, buf, size, &res);
                                         found = res != nullptr;
                                         if (found)
                                             entry.uid = pw.pw_uid;
                                         return rc;
                                     });
    if (!ok)
        return std::nullopt;
    return entry;
}

std::optional<PasswdEntry> passwd_by_uid(uid_t uid)
{
    PasswdEntry entry;
    const bool ok = call_with_buffer(initial_buffer(_SC_GETPW_R_SIZE_MAX),
                                     [&](char* buf, std::size_t size, bool& found) {
                                         passwd pw{};
                                         passwd* res = nullptr;
                                         const int rc = getpwuid_r(uid, &pw, buf, size, &res);
                                         found = res != nullptr && res->pw_name != nullptr;
                                         if (found) {
                                             entry.uid = pw.pw_uid;
                                             entry.gid = pw.pw_gid;
                                             entry.name = pw.pw_name;
                                         }
                                         return rc;
                                     });
    if (!ok)
        return std::nullopt;
    return entry;
}

std::optional<std::string> group_name(gid_t gid)
{
    std::string name;
    const bool ok = call_with_buffer(initial_buffer(_SC_GETGR_R_SIZE_MAX),
                                     [&](char* buf, std::size_t size, bool& found) {
                                         group gr{};
                                         group* res = nullptr;
                                         const int rc = getgrgid_r(gid, &gr, buf, size, &res);
                                         found = res != nullptr && res->gr_name != nullptr;
                                         if (found)
                                             name = gr.gr_name;
                                         return rc;
                                     });
    if (!ok)
        return std::nullopt;
    return name;
}

std::optional<std::vector<gid_t>> all_group_ids(const PasswdEntry& pw)
{
    std::vector<gid_t> gids(32);
    for (;;) {
        int count = static_cast<int>(gids.size());
        if (getgrouplist(pw.name.c_str(), pw.gid, gids.data(), &count) >= 0) {
            gids.resize(static_cast<std::size_t>(count));
            break;
        }
        // glibc reports the needed size in count; anything else is a failure.
        if (count <= static_cast<int>(gids.size()) || count > kMaxGroups)
            return std::nullopt;
        gids.assign(static_cast<std::size_t>(count), 0);
    }
    // Primary group first, as upstream arranges it (Upstream: uidlist.c:getallgroups).
    const auto primary = std::find(gids.begin(), gids.end(), pw.gid);
    if (primary == gids.end())
        gids.insert(gids.begin(), pw.gid);
    else
        std::iter_swap(gids.begin(), primary);
    return gids;
}

} // namespace

std::optional<std::vector<std::string>> SystemGroupLookup::groups_of_user(std::string_view user)
{
    if (user.empty() || user.find('\0') != std::string_view::npos)
        return std::nullopt;
    const auto by_name = passwd_by_name(std::string(user));
    if (!by_name)
        return std::nullopt;
    // Upstream goes name -> uid -> passwd entry, so a second name for a uid (an alias
    // such as "toor" for root) is given the groups of the uid's first entry.
    const auto pw = passwd_by_uid(by_name->uid);
    if (!pw)
        return std::nullopt;
    const auto gids = all_group_ids(*pw);
    if (!gids)
        return std::nullopt;
    std::vector<std::string> names;
    names.reserve(gids->size());
    for (gid_t gid : *gids) {
        if (auto name = group_name(gid))
            names.push_back(std::move(*name));
    }
    return names;
}

} // namespace ocr::daemon
