// SPDX-License-Identifier: MIT
// Unit tests for resolve_module_symlinks over an in-memory module tree.
#include "transfer/module_symlinks.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <string>

namespace ocr::transfer {
namespace {

// A module tree: directories map to "", symlinks to their target.
class FakeTree {
public:
    FakeTree& dir(const std::string& p)
    {
        entries_[p] = {false, ""};
        return *this;
    }
    FakeTree& link(const std::string& p, const std::string& target)
    {
        entries_[p] = {true, target};
        return *this;
    }
    std::optional<std::string> resolve(const std::string& rel, const std::string& module_dir = "/",
                                       bool absolute_inside = false) const
    {
        return resolve_module_symlinks(
            rel, module_dir, absolute_inside,
            [this](const std::string& p, struct stat& st) -> Errno {
                const auto it = entries_.find(p);
                if (it == entries_.end())
                    return ENOENT;
                st = {};
                st.st_mode = it->second.first ? S_IFLNK | 0777 : S_IFDIR | 0755;
                return 0;
            },
            [this](const std::string& p) -> std::optional<std::string> {
                const auto it = entries_.find(p);
                if (it == entries_.end() || !it->second.first)
                    return std::nullopt;
                return it->second.second;
            });
    }

private:
    std::map<std::string, std::pair<bool, std::string>> entries_;
};

// Verifies that a path without links comes back as it is, normalised.
TEST(ModuleSymlinks, PlainPathIsUnchanged)
{
    FakeTree t;
    t.dir("bk").dir("bk/prev");
    EXPECT_EQ(t.resolve("bk/./prev"), "bk/prev");
    EXPECT_EQ(t.resolve(""), "");
}

// Verifies a relative "latest" link, a chain of two, and an absolute one in a chroot.
TEST(ModuleSymlinks, FollowsLinksInsideAChroot)
{
    FakeTree t;
    t.dir("bk").dir("bk/prev").link("bk/latest", "prev").link("bk/chain", "latest").link("bk/abs", "/bk/prev");
    EXPECT_EQ(t.resolve("bk/latest"), "bk/prev");
    EXPECT_EQ(t.resolve("bk/chain"), "bk/prev");
    EXPECT_EQ(t.resolve("bk/abs"), "bk/prev");
}

// Verifies that ".." after a link leaves the link's real parent, not the link's name.
TEST(ModuleSymlinks, DotDotLeavesTheRealParent)
{
    FakeTree t;
    t.dir("a").dir("a/b").dir("c").link("c/tob", "../a/b");
    EXPECT_EQ(t.resolve("c/tob/.."), "a");
}

// Verifies that in a chroot nothing climbs above the root, as the kernel's chroot keeps it.
TEST(ModuleSymlinks, ChrootClampsAtTheRoot)
{
    FakeTree t;
    t.dir("x").link("up", "../../x");
    EXPECT_EQ(t.resolve("up"), "x");
}

// Verifies that a module that is not chrooted never follows a link above it, nor an
// absolute one unless asked to and only inside the module.
TEST(ModuleSymlinks, UnchrootedModuleStaysInside)
{
    FakeTree t;
    t.dir("x").link("up", "../../x").link("abs", "/srv/mod/x").link("out", "/etc");
    EXPECT_EQ(t.resolve("up", "/srv/mod"), std::nullopt);
    EXPECT_EQ(t.resolve("abs", "/srv/mod"), std::nullopt);
    EXPECT_EQ(t.resolve("abs", "/srv/mod", true), "x");
    EXPECT_EQ(t.resolve("out", "/srv/mod", true), std::nullopt);
    EXPECT_EQ(t.resolve("abs", "/srv/mo", true), std::nullopt) << "a prefix that is not a directory";
}

// Verifies that a missing component or a loop ends the resolution.
TEST(ModuleSymlinks, MissingAndLoopsFail)
{
    FakeTree t;
    t.link("a", "b").link("b", "a").link("dangling", "nowhere");
    EXPECT_EQ(t.resolve("a"), std::nullopt);
    EXPECT_EQ(t.resolve("dangling"), std::nullopt);
    EXPECT_EQ(t.resolve("nothing/here"), std::nullopt);
}

} // namespace
} // namespace ocr::transfer
