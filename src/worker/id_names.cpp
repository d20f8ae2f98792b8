// SPDX-License-Identifier: MIT
#include "worker/id_names.hpp"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <vector>

namespace ocr::worker {
namespace {

// getpwuid_r / getgrgid_r with a buffer that grows while the entry does not fit.
template <typename Entry, typename Lookup>
std::optional<std::string> lookup_name(std::uint32_t id, Lookup lookup, char* Entry::*name_field)
{
    std::vector<char> buf(1024);
    for (;;) {
        Entry entry{};
        Entry* found = nullptr;
        const int rc = lookup(id, &entry, buf.data(), buf.size(), &found);
        if (rc == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 4);
            continue;
        }
        if (rc != 0 || !found || !(found->*name_field))
            return std::nullopt;
        return std::string(found->*name_field);
    }
}

} // namespace

std::optional<std::string> user_name_of(std::uint32_t uid)
{
    return lookup_name<passwd>(uid, [](std::uint32_t id, passwd* e, char* b, std::size_t n, passwd** r) {
        return ::getpwuid_r(static_cast<uid_t>(id), e, b, n, r);
    }, &passwd::pw_name);
}

std::optional<std::string> group_name_of(std::uint32_t gid)
{
    return lookup_name<group>(gid, [](std::uint32_t id, group* e, char* b, std::size_t n, group** r) {
        return ::getgrgid_r(static_cast<gid_t>(id), e, b, n, r);
    }, &group::gr_name);
}

} // namespace ocr::worker
