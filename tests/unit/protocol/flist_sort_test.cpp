// SPDX-License-Identifier: MIT
#include "protocol/flist_sort.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

FileEntry file(const std::string& name)
{
    FileEntry e;
    e.name = name;
    e.mode = kModeRegular | 0644;
    return e;
}

FileEntry dir(const std::string& name)
{
    FileEntry e;
    e.name = name;
    e.mode = kModeDir | 0755;
    return e;
}

std::vector<std::string> names(const std::vector<FileEntry>& list)
{
    std::vector<std::string> out;
    for (const FileEntry& e : list)
        out.push_back(e.active ? e.name : "<cleared>");
    return out;
}

// Verifies the protocol-29 order (upstream f_name_cmp): "." first, files before
// subdirectories at each level, a directory right before its own contents, unsigned bytes.
TEST(FlistSort, Protocol29Order)
{
    std::vector<FileEntry> list = {dir("sub"),    file("sub/b"), file("z"),    dir("a"),
                                   file("a.txt"), dir("."),      file("link"), file("\xc3\xa9"),
                                   dir("a/x"),    file("a/y"),   dir("sub.d")};
    const SortResult r = sort_file_list(list, 31, FlistSide::Receiver, false, false);
    // Directories compare as "name/", so "sub.d/" sorts before "sub/".
    EXPECT_EQ(names(list), (std::vector<std::string>{".", "a.txt", "link", "z", "\xc3\xa9", "a",
                                                     "a/y", "a/x", "sub.d", "sub", "sub/b"}));
    EXPECT_EQ(r.low, 0u);
    EXPECT_EQ(r.high, 10);
    // order[] maps sorted positions back to the positions entries were received in.
    EXPECT_EQ(r.order[0], 5u);
    EXPECT_EQ(r.order[1], 4u);
}

// Verifies that below protocol 29 names compare as plain strings, directories included.
TEST(FlistSort, OldProtocolPlainStrings)
{
    std::vector<FileEntry> list = {dir("sub"),    file("sub/b"), file("z"),    dir("a"),
                                   file("a.txt"), dir("."),      file("sub.d")};
    (void)sort_file_list(list, 28, FlistSide::Receiver, false, false);
    EXPECT_EQ(names(list),
              (std::vector<std::string>{".", "a", "a.txt", "sub", "sub.d", "sub/b", "z"}));
}

// Verifies the comparator on single pairs, including a directory against a file of the same
// name (not equal from protocol 29) and a directory against names sharing its prefix.
TEST(FlistSort, CompareNames)
{
    EXPECT_LT(compare_names(".", true, "a", false, 30), 0);
    EXPECT_GT(compare_names("a", true, "b", false, 30), 0);
    EXPECT_NE(compare_names("x", true, "x", false, 30), 0);
    EXPECT_EQ(compare_names("x", true, "x", false, 28), 0);
    EXPECT_LT(compare_names("a", true, "a/b", false, 30), 0);
    EXPECT_GT(compare_names("a/b", false, "a.b", true, 30), 0); // "a/b" vs "a.b/": '/' > '.'
    EXPECT_EQ(compare_names("d/e", false, "d/e", false, 30), 0);
    EXPECT_GT(compare_names("\xff", false, "a", false, 30), 0);
}

// Verifies receiver de-duplication: of two equal names the first stays and the second is
// cleared in place; a directory wins over a non-directory of the same name (even when they
// are not adjacent), and two directories merge their top/content flags.
TEST(FlistSort, ReceiverDropsDuplicates)
{
    FileEntry d1 = dir("d");
    d1.implied_dir = true;
    FileEntry d2 = dir("d");
    d2.top_dir = true;
    d2.content_dir = true;
    std::vector<FileEntry> list = {file("x"), file("a"), file("x"), dir("x"), d1, d2, file("b")};
    const SortResult r = sort_file_list(list, 31, FlistSide::Receiver, false, false);
    EXPECT_EQ(names(list), (std::vector<std::string>{"a", "b", "<cleared>", "<cleared>", "d",
                                                     "<cleared>", "x"}));
    const FileEntry& kept = list[4];
    EXPECT_TRUE(kept.top_dir);
    EXPECT_TRUE(kept.content_dir);
    EXPECT_FALSE(kept.implied_dir);
    EXPECT_EQ(r.low, 0u);
    EXPECT_EQ(r.high, 6);
}

// Verifies that a dropped first entry moves `low` to the next active one.
TEST(FlistSort, LowSkipsDroppedHead)
{
    std::vector<FileEntry> list = {file("x"), dir("x")};
    const SortResult r = sort_file_list(list, 31, FlistSide::Receiver, false, false);
    EXPECT_EQ(names(list), (std::vector<std::string>{"<cleared>", "x"}));
    EXPECT_EQ(r.low, 1u);
    EXPECT_EQ(r.high, 1);
}

// Verifies that a sender keeps every entry: without incremental recursion it only sorts;
// with it, a repeated directory is flagged as a duplicate instead of being dropped.
TEST(FlistSort, SenderKeepsEverything)
{
    std::vector<FileEntry> plain = {dir("d"), file("f"), dir("d"), file("f")};
    (void)sort_file_list(plain, 31, FlistSide::Sender, false, false);
    for (const FileEntry& e : plain) {
        EXPECT_TRUE(e.active);
        EXPECT_FALSE(e.duplicate);
    }
    std::vector<FileEntry> inc = {dir("d"), file("f"), dir("d")};
    (void)sort_file_list(inc, 31, FlistSide::Sender, true, false);
    EXPECT_EQ(names(inc), (std::vector<std::string>{"f", "d", "d"}));
    EXPECT_FALSE(inc[1].duplicate);
    EXPECT_TRUE(inc[2].duplicate);
    EXPECT_TRUE(inc[2].active);
}

// Verifies that -R names are sorted with their leading slash and lose it afterwards.
TEST(FlistSort, StripRootAfterSorting)
{
    std::vector<FileEntry> list = {file("/b/x"), dir("/b"), file("/a")};
    (void)sort_file_list(list, 31, FlistSide::Receiver, false, true);
    EXPECT_EQ(names(list), (std::vector<std::string>{"a", "b", "b/x"}));
}

// Verifies that an empty list sorts to an empty range.
TEST(FlistSort, EmptyList)
{
    std::vector<FileEntry> list;
    const SortResult r = sort_file_list(list, 31, FlistSide::Receiver, true, false);
    EXPECT_LT(r.high, static_cast<std::int64_t>(r.low));
}

} // namespace
} // namespace ocr::protocol
