// SPDX-License-Identifier: MIT
// Tests of SystemGroupLookup against this machine's user and group databases.
#include "daemon/auth_group_lookup.hpp"

#include <gtest/gtest.h>

#include <grp.h>
#include <pwd.h>

#include <algorithm>

namespace ocr::daemon {
namespace {

std::string primary_group_name(const char* user)
{
    const passwd* pw = getpwnam(user);
    if (pw == nullptr)
        return {};
    const group* gr = getgrgid(pw->pw_gid);
    return gr != nullptr ? gr->gr_name : std::string();
}

// Verifies that root's groups come back with its primary group first and no duplicates.
TEST(SystemGroupLookup, RootPrimaryGroupFirst)
{
    const std::string primary = primary_group_name("root");
    ASSERT_FALSE(primary.empty());
    SystemGroupLookup lookup;
    const auto groups = lookup.groups_of_user("root");
    ASSERT_TRUE(groups);
    ASSERT_FALSE(groups->empty());
    EXPECT_EQ(groups->front(), primary);
    EXPECT_EQ(std::count(groups->begin(), groups->end(), primary), 1);
}

// Verifies another system account, whose primary group differs from its user name here.
TEST(SystemGroupLookup, NobodyAccount)
{
    const std::string primary = primary_group_name("nobody");
    if (primary.empty())
        GTEST_FAIL() << "this machine has no 'nobody' user with a named group";
    SystemGroupLookup lookup;
    const auto groups = lookup.groups_of_user("nobody");
    ASSERT_TRUE(groups);
    EXPECT_EQ(groups->front(), primary);
}

// Verifies that unknown, empty, numeric-only and NUL-containing names are "not a user".
TEST(SystemGroupLookup, UnknownNames)
{
    SystemGroupLookup lookup;
    EXPECT_FALSE(lookup.groups_of_user("ocr-no-such-user-7f3a"));
    EXPECT_FALSE(lookup.groups_of_user(""));
    EXPECT_FALSE(lookup.groups_of_user(std::string("root\0x", 6)));
    if (getpwnam("0") == nullptr) {
        EXPECT_FALSE(lookup.groups_of_user("0"));
    }
}

} // namespace
} // namespace ocr::daemon
