// SPDX-License-Identifier: MIT
// Tests of the --fuzzy basis search.
// Expected values were worked out from upstream util1.c (find_filename_suffix,
// fuzzy_distance) and generator.c:find_fuzzy.
#include "transfer/fuzzy.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace ocr::transfer {
namespace {

TEST(FuzzySuffix, SkipsBackupSuffixesAndLeadingDots)
{
    EXPECT_EQ(filename_suffix("foo.tar.gz"), ".gz");
    EXPECT_EQ(filename_suffix("x.bak"), "");
    EXPECT_EQ(filename_suffix("foo.orig"), "");
    EXPECT_EQ(filename_suffix("file.txt.old"), ".txt");
    EXPECT_EQ(filename_suffix("y~"), "");
    EXPECT_EQ(filename_suffix(".hidden"), "");
    EXPECT_EQ(filename_suffix("README"), "");
    EXPECT_EQ(filename_suffix(""), "");
    EXPECT_EQ(filename_suffix("a.b.c.d"), ".d");
}

TEST(FuzzySuffix, TildeAndDigits)
{
    EXPECT_EQ(filename_suffix("foo.c~"), ".c");        // the '~' is no part of it
    EXPECT_EQ(filename_suffix("foo.bak~"), ".bak");    // upstream's strcmp sees "bak~"
    EXPECT_EQ(filename_suffix("foo.~1~"), "");         // an emacs backup number
    EXPECT_EQ(filename_suffix("foo.tar.1"), ".tar");   // digits only count as a last resort
    EXPECT_EQ(filename_suffix("12.34"), ".34");
    EXPECT_EQ(filename_suffix("a."), ".");
}

TEST(FuzzyDistance, MatchesUpstreamUnits)
{
    constexpr std::uint32_t lim = 25U << 16;
    EXPECT_EQ(fuzzy_distance("similar-1.txt", "similar-2.txt", lim), 65537U);
    EXPECT_EQ(fuzzy_distance("abc", "abd", lim), 65537U);
    EXPECT_EQ(fuzzy_distance("abc", "", lim), 196902U);   // 3 units + 'a'+'b'+'c'
    EXPECT_EQ(fuzzy_distance("", "", lim), 0U);
    EXPECT_EQ(fuzzy_distance("kitten", "sitting", lim), 196723U);
    EXPECT_EQ(fuzzy_distance("foo.tar.gz", "x.bak", lim), 524593U);
    EXPECT_EQ(fuzzy_distance("y~", ".hidden", lim), 458788U);
    EXPECT_EQ(fuzzy_distance("foo.c~", "foo.bak~", lim), 196811U);
    EXPECT_EQ(fuzzy_distance("file.txt.old", "a.b.c.d", lim), 590156U);
    EXPECT_EQ(fuzzy_distance("data.tar.gz", "data.tgz", lim), 196865U);
}

TEST(FuzzyDistance, LengthDifferenceOverLimitShortCuts)
{
    EXPECT_EQ(fuzzy_distance("a", "abcdef", 4U << 16), 0xFFFFU * 65536U + 1U);
    EXPECT_NE(fuzzy_distance("a", "abcdef", 5U << 16), 0xFFFFU * 65536U + 1U);
}

FuzzyCandidate reg(std::string name, std::int64_t size, std::int64_t mtime)
{
    return FuzzyCandidate{std::move(name), S_IFREG | 0644, size, mtime, false};
}

TEST(FuzzyChoose, ExactSizeAndTimeWinsOverName)
{
    std::vector<std::vector<FuzzyCandidate>> dirs{{reg("other.bin", 100, 5), reg("similar-1.txt", 99, 7)}};
    const auto c = choose_fuzzy("similar-2.txt", 100, 5, dirs, 0);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->index, 0U);
}

TEST(FuzzyChoose, NearestNameAndLaterTie)
{
    std::vector<std::vector<FuzzyCandidate>> dirs{{reg("file-1.txt", 10, 1), reg("file-3.txt", 10, 1)}};
    // '1' and '3' are both two away from '2': the later entry wins the tie.
    const auto c = choose_fuzzy("file-2.txt", 11, 9, dirs, 0);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->index, 1U);
}

TEST(FuzzyChoose, SkipsEmptySentAndNonRegular)
{
    std::vector<std::vector<FuzzyCandidate>> dirs{{reg("a-1.txt", 0, 1), reg("a-3.txt", 5, 1),
                                                   FuzzyCandidate{"a-4.txt", S_IFDIR | 0755, 5, 1, false}}};
    dirs[0][1].sent = true;
    EXPECT_FALSE(choose_fuzzy("a-2.txt", 5, 1, dirs, 0));
}

TEST(FuzzyChoose, TooFarIsNoBasis)
{
    std::vector<std::vector<FuzzyCandidate>> dirs{{reg("a-very-long-and-completely-unrelated-name.dat", 5, 1)}};
    EXPECT_FALSE(choose_fuzzy("x.txt", 6, 2, dirs, 0));
}

TEST(FuzzyChoose, LaterDirsAndModifyWindow)
{
    std::vector<std::vector<FuzzyCandidate>> dirs{{}, {reg("zzz", 42, 100)}};
    const auto c = choose_fuzzy("new.txt", 42, 101, dirs, 1);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->dir, 1U);
    EXPECT_FALSE(choose_fuzzy("new.txt", 42, 101, dirs, 0));
}

} // namespace
} // namespace ocr::transfer
