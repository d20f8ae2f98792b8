// SPDX-License-Identifier: MIT
// Tests for the receiver's --prune-empty-dirs pass over a sorted list.
#include "transfer/receiver_flists.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

namespace ocr::transfer {
namespace {

using protocol::DecodedList;
using protocol::FileEntry;

constexpr std::uint32_t kDir = 0040755;
constexpr std::uint32_t kFile = 0100644;

// Entries in the order upstream's sort leaves them (each directory's files before its
// subdirectories); a trailing '/' marks a directory.
DecodedList make_list(std::initializer_list<std::string_view> names)
{
    DecodedList l;
    for (std::string_view n : names) {
        FileEntry e;
        const bool dir = n.size() > 1 && n.back() == '/';
        e.name = std::string(dir ? n.substr(0, n.size() - 1) : n);
        e.mode = dir || n == "." ? kDir : kFile;
        l.entries.push_back(e);
    }
    l.low = 0;
    l.high = static_cast<std::int64_t>(l.entries.size()) - 1;
    return l;
}

std::set<std::string> active(const DecodedList& l)
{
    std::set<std::string> out;
    for (const FileEntry& e : l.entries)
        if (e.active)
            out.insert(e.name);
    return out;
}

const auto kNothingExcluded = [](std::string_view) { return false; };

TEST(PruneEmptyDirs, DropsDirectoriesWithoutFiles)
{
    // Verifies that empty directories, and chains of them, are pruned while directories
    // holding a file somewhere below stay.
    DecodedList l = make_list({".", "a", "d1/", "d1/f", "d1/d2/", "d1/d2/d3/", "empty/", "x/", "x/y/", "x/y/z"});
    EXPECT_EQ(prune_empty_dirs(l, kNothingExcluded), 3u);
    EXPECT_EQ(active(l), (std::set<std::string>{".", "a", "d1", "d1/f", "x", "x/y", "x/y/z"}));
}

TEST(PruneEmptyDirs, KeepsExcludedDirectoryAndItsParents)
{
    // Verifies that a directory the rules exclude stays, and so does every directory
    // above it, as upstream's is_excluded check keeps them.
    DecodedList l = make_list({".", "p/", "p/q/", "p/q/kept/", "other/"});
    const auto excluded = [](std::string_view name) { return name == "p/q/kept"; };
    EXPECT_EQ(prune_empty_dirs(l, excluded), 1u);
    EXPECT_EQ(active(l), (std::set<std::string>{".", "p", "p/q", "p/q/kept"}));
}

TEST(PruneEmptyDirs, DroppedDuplicateCountsAsContent)
{
    // Verifies that an entry already inactive (a dropped duplicate) keeps its parent, as
    // upstream's cleared entries do.
    DecodedList l = make_list({".", "d/", "d/dup"});
    l.entries[2].active = false;
    EXPECT_EQ(prune_empty_dirs(l, kNothingExcluded), 0u);
    EXPECT_TRUE(l.entries[1].active);
}

TEST(PruneEmptyDirs, FirstActiveEntryMovesPastPrunedOnes)
{
    // Verifies that the list's first active index skips entries pruned at its start (a
    // list without "." whose first directory is empty).
    DecodedList l = make_list({"e/", "g/", "g/h"});
    EXPECT_EQ(prune_empty_dirs(l, kNothingExcluded), 1u);
    EXPECT_EQ(l.low, 1u);
}

} // namespace
} // namespace ocr::transfer
