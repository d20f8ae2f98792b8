// SPDX-License-Identifier: MIT
// Tests of matching one rule against one name (upstream rule_matches semantics).
#include "transfer/filter_match.hpp"
#include "transfer/filter_source.hpp"
#include "transfer/filter_set.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

using namespace rule_flag;

/// Builds a rule the way the engine does, through a one-rule client list.
bool excludes(std::string_view rule, std::string_view name, bool is_dir,
              std::string_view cwd = "")
{
    NoFilterFiles files;
    FilterSet set(FilterOptions{}, files);
    set.add_client_rules(rule, 0, 0);
    set.set_transfer_root(cwd);
    return set.client_list().check(name, is_dir, FilterSide::Sender) == Verdict::Exclude;
}

// Verifies that a pattern without '/' or "**" matches the last component only.
TEST(FilterMatch, BasenamePatterns)
{
    EXPECT_TRUE(excludes("- foo", "foo", false));
    EXPECT_TRUE(excludes("- foo", "a/b/foo", false));
    EXPECT_FALSE(excludes("- foo", "foo/bar", false));
    EXPECT_FALSE(excludes("- foo", "afoo", false));
    EXPECT_TRUE(excludes("- *.o", "x/y.o", false));
    EXPECT_FALSE(excludes("- *.o", "x.o/y", false));
    EXPECT_TRUE(excludes("- f?o", "a/fxo", false));
}

// Verifies that a pattern with an inner '/' matches that many trailing components.
TEST(FilterMatch, InnerSlashFloats)
{
    EXPECT_TRUE(excludes("- a/b", "a/b", false));
    EXPECT_TRUE(excludes("- a/b", "x/a/b", false));
    EXPECT_FALSE(excludes("- a/b", "xa/b", false));
    EXPECT_FALSE(excludes("- a/b", "a/b/c", false));
    EXPECT_TRUE(excludes("- a/*/c", "z/a/b/c", false));
    EXPECT_FALSE(excludes("- a/*/c", "a/b/b/c", false));
}

// Verifies that a leading '/' anchors at the transfer root.
TEST(FilterMatch, Anchored)
{
    EXPECT_TRUE(excludes("- /foo", "foo", false));
    EXPECT_FALSE(excludes("- /foo", "a/foo", false));
    EXPECT_TRUE(excludes("- /a/*", "a/b", false));
    EXPECT_FALSE(excludes("- /a/*", "a/b/c", false));
    EXPECT_TRUE(excludes("- /a/**", "a/b/c", false));
    EXPECT_FALSE(excludes("- /a/**", "a", true));
}

// Verifies "**" (crosses '/'), a leading "**/" that also matches at the start, and "***".
TEST(FilterMatch, DoubleAndTripleStar)
{
    EXPECT_TRUE(excludes("- x**w", "x/y/z/w", false));
    EXPECT_TRUE(excludes("- **/c", "c", false));
    EXPECT_TRUE(excludes("- **/c", "a/b/c", false));
    EXPECT_TRUE(excludes("- foo**too", "q/foo/bar/too", false));
    EXPECT_TRUE(excludes("- a/**", "q/a/b", false));
    EXPECT_FALSE(excludes("- a/**", "q/a", true));
    EXPECT_TRUE(excludes("- a/***", "q/a", true));
    EXPECT_FALSE(excludes("- a/***", "q/a", false));
    EXPECT_TRUE(excludes("- a/***", "q/a/b/c", false));
    EXPECT_FALSE(excludes("- /**/c", "c", false));
}

// Verifies that a trailing '/' limits the rule to directories, and how '!' inverts.
TEST(FilterMatch, DirectoryOnlyAndNegation)
{
    EXPECT_TRUE(excludes("- foo/", "foo", true));
    EXPECT_FALSE(excludes("- foo/", "foo", false));
    EXPECT_TRUE(excludes("-! foo", "bar", false));
    EXPECT_FALSE(excludes("-! foo", "foo", false));
    // A negated directory rule takes effect for every non-directory.
    EXPECT_TRUE(excludes("-! */", "file", false));
    EXPECT_FALSE(excludes("-! */", "dir", true));
}

// Verifies that the '/' modifier matches against the path from the module root.
TEST(FilterMatch, AbsolutePathModifier)
{
    EXPECT_TRUE(excludes("-/ /top/sub/foo", "sub/foo", false, "top"));
    EXPECT_FALSE(excludes("-/ /sub/foo", "sub/foo", false, "top"));
    EXPECT_TRUE(excludes("-/ top/sub/foo", "sub/foo", false, "top"));
    EXPECT_TRUE(excludes("-/ /sub/foo", "sub/foo", false, ""));
    // A name starting with '/' is already from the module root.
    EXPECT_TRUE(excludes("-/ /sub/foo", "/sub/foo", false, "top"));
    // Without '/' in the pattern only the last component is looked at.
    EXPECT_TRUE(excludes("-/ foo", "sub/foo", false, "top"));
}

// Verifies that a backslash escapes only in wildcard patterns, and a trailing lone
// backslash is a literal byte (or never matches in a wildcard pattern).
TEST(FilterMatch, Backslashes)
{
    EXPECT_TRUE(excludes("- back\\slash", "back\\slash", false));
    EXPECT_TRUE(excludes("- trail\\", "trail\\", false));
    EXPECT_FALSE(excludes("- tra*\\", "trail\\", false));
    EXPECT_TRUE(excludes("- st\\*r", "st*r", false));
    EXPECT_FALSE(excludes("- st\\*r", "star", false));
    EXPECT_TRUE(excludes("- back\\\\slash*", "back\\slash", false));
    EXPECT_FALSE(excludes("- back\\slash*", "back\\slash", false));
}

// Verifies that xattr rules match only xattr names and other rules never do.
TEST(FilterMatch, Xattr)
{
    NoFilterFiles files;
    FilterSet set(FilterOptions{}, files);
    set.add_client_rules("-x user.*", 0, 0);
    set.add_client_rules("- security.*", 0, 0);
    const FilterList list = set.client_list();
    EXPECT_EQ(list.check("user.foo", NameKind::Xattr, FilterSide::Sender, false),
              Verdict::Exclude);
    EXPECT_EQ(list.check("user.foo", NameKind::File, FilterSide::Sender, false),
              Verdict::NoMatch);
    EXPECT_EQ(list.check("security.x", NameKind::Xattr, FilterSide::Sender, false),
              Verdict::NoMatch);
    EXPECT_TRUE(set.saw_xattr_filter());
}

// Verifies that an empty name (or "/") never matches, even a negated rule.
TEST(FilterMatch, EmptyNameNeverMatches)
{
    EXPECT_FALSE(excludes("-! foo", "", false));
    EXPECT_FALSE(excludes("- *", "/", true));
}

// Verifies wildmatch_array()'s three modes on pieces.
TEST(FilterMatch, WildmatchArrayModes)
{
    const WildPattern p("b/c");
    const std::vector<std::string_view> pieces = {"a/", "b", "/c"};
    EXPECT_FALSE(wildmatch_array(p, pieces, 0));
    EXPECT_TRUE(wildmatch_array(p, pieces, 2));
    EXPECT_FALSE(wildmatch_array(p, pieces, 3));
    EXPECT_TRUE(wildmatch_array(p, pieces, -1));
    EXPECT_FALSE(wildmatch_array(p, std::vector<std::string_view>{}, 0));
    // Fewer components than asked for: no match at all.
    EXPECT_FALSE(wildmatch_array(WildPattern("*"), std::vector<std::string_view>{"a"}, 2));
    EXPECT_TRUE(litmatch_array("a/b/c", pieces, 0));
    EXPECT_TRUE(litmatch_array("c", pieces, 1));
    EXPECT_FALSE(litmatch_array("/c", pieces, 1));
}

// Verifies that a pattern with '?' or a class is matched as a wildcard against a long
// path in bounded time (a hostile pattern must not stall the sender).
TEST(FilterMatch, HostilePatternIsBounded)
{
    std::string name;
    for (int i = 0; i < 200; ++i)
        name += "a/";
    name += "b";
    EXPECT_FALSE(excludes("- **a**a**a**a**a**a**a**a**c", name, false));
    EXPECT_TRUE(excludes("- **a**a**a**a**a**a**a**a**b", name, false));
}

} // namespace
} // namespace ocr::transfer
