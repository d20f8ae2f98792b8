// SPDX-License-Identifier: MIT
// Tests of per-directory merge files: push/pop, inheritance, anchoring and parent scans.
#include "transfer/filter_set.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

class MapFiles final : public FilterFileSource {
public:
    std::map<std::string, std::string, std::less<>> module;
    std::vector<std::string> reads;

    FilterFileRead read_module_file(std::string_view path, std::size_t) override
    {
        reads.emplace_back(path);
        const auto it = module.find(path);
        if (it == module.end())
            return {std::nullopt, ENOENT};
        return {it->second, 0};
    }
    FilterFileRead read_operator_file(std::string_view, std::size_t) override
    {
        return {std::nullopt, ENOENT};
    }
};

FilterOptions role(FilterSide side)
{
    FilterOptions o;
    o.role = side;
    return o;
}

bool out(const FilterSet& set, std::string_view name, bool is_dir = false)
{
    return set.excluded(name, is_dir) != Exclusion::None;
}

// Verifies that rules read in a directory apply below it, that a subdirectory's own rules
// come first, and that leaving the subdirectory restores the parent's rules.
TEST(FilterMerge, InheritanceAndPriority)
{
    MapFiles files;
    files.module[".r"] = "- a\n- shadowed\n";
    files.module["d/.r"] = "- b\n+ shadowed\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(": .r", 0, 0);
    set.push_dir(".");
    EXPECT_TRUE(out(set, "a"));
    EXPECT_FALSE(out(set, "b"));
    EXPECT_TRUE(out(set, "shadowed"));
    set.push_dir("d");
    EXPECT_TRUE(out(set, "d/a"));
    EXPECT_TRUE(out(set, "d/b"));
    EXPECT_FALSE(out(set, "d/shadowed"));
    EXPECT_EQ(set.dir_depth(), 2u);
    set.pop_dir();
    EXPECT_FALSE(out(set, "x/b"));
    EXPECT_TRUE(out(set, "x/shadowed"));
    set.pop_dir();
    EXPECT_EQ(set.dir_depth(), 0u);
    EXPECT_EQ(files.reads, (std::vector<std::string>{".r", "d/.r"}));
}

// Verifies the 'n' modifier: a subdirectory does not inherit the parent's rules.
TEST(FilterMerge, NoInherit)
{
    MapFiles files;
    files.module[".r"] = "- a\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(":n .r", 0, 0);
    set.push_dir(".");
    EXPECT_TRUE(out(set, "a"));
    set.push_dir("d");
    EXPECT_FALSE(out(set, "d/a"));
    set.pop_dir();
    EXPECT_TRUE(out(set, "a"));
    set.pop_dir();
}

// Verifies that "!" in a subdirectory's file clears only the inherited rules of that
// merge file, and only there.
TEST(FilterMerge, ClearInSubdirectory)
{
    MapFiles files;
    files.module[".r"] = "- a\n";
    files.module["d/.r"] = "!\n- c\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules("- g", 0, 0);
    set.add_client_rules(": .r", 0, 0);
    set.push_dir(".");
    set.push_dir("d");
    EXPECT_FALSE(out(set, "d/a"));
    EXPECT_TRUE(out(set, "d/c"));
    EXPECT_TRUE(out(set, "d/g"));
    set.pop_dir();
    EXPECT_TRUE(out(set, "a"));
    EXPECT_FALSE(out(set, "c"));
    set.pop_dir();
}

// Verifies that an anchored rule in a per-directory file is anchored at its directory.
TEST(FilterMerge, AnchoredAtTheFilesDirectory)
{
    MapFiles files;
    files.module["d/.r"] = "- /x\n- y/z\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(": .r", 0, 0);
    set.push_dir(".");
    set.push_dir("d");
    EXPECT_TRUE(out(set, "d/x"));
    EXPECT_TRUE(out(set, "d/q/y/z"));
    set.push_dir("d/e");
    EXPECT_FALSE(out(set, "d/e/x"));
    set.pop_dir();
    set.pop_dir();
    EXPECT_FALSE(out(set, "x"));
    set.pop_dir();
}

// Verifies that the same anchoring holds below a transfer root inside the module.
TEST(FilterMerge, AnchoredBelowATransferRoot)
{
    MapFiles files;
    files.module["top/d/.r"] = "- /x\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(": .r", 0, 0);
    set.set_transfer_root("top");
    set.push_dir(".");
    set.push_dir("d");
    EXPECT_TRUE(out(set, "d/x"));
    EXPECT_FALSE(out(set, "x"));
    set.pop_dir();
    set.pop_dir();
    EXPECT_EQ(files.reads, (std::vector<std::string>{"top/.r", "top/d/.r"}));
}

// Verifies that a dir-merge rule read from a merge file becomes active in the same
// directory, and goes away with the directory that defined it.
TEST(FilterMerge, NestedDirMerge)
{
    MapFiles files;
    files.module["d/.r"] = ": .inner\n";
    files.module["d/.inner"] = "- one\n";
    files.module["d/e/.inner"] = "- two\n";
    files.module["f/.inner"] = "- three\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(": .r", 0, 0);
    set.push_dir(".");
    set.push_dir("d");
    EXPECT_TRUE(out(set, "d/one"));
    set.push_dir("d/e");
    EXPECT_TRUE(out(set, "d/e/one"));
    EXPECT_TRUE(out(set, "d/e/two"));
    set.pop_dir();
    set.pop_dir();
    set.push_dir("f");
    EXPECT_FALSE(out(set, "f/three"));
    set.pop_dir();
    set.pop_dir();
    EXPECT_EQ(std::count(files.reads.begin(), files.reads.end(), "f/.inner"), 0);
}

// Verifies the parent scan of a dir-merge name with a directory part: every directory
// from there down to the transfer root's parent is read first (rsync.1.md: -F).
TEST(FilterMerge, ParentDirectoryScan)
{
    MapFiles files;
    files.module[".rf"] = "- from-root\n";
    files.module["p/.rf"] = "- from-p\n- /q/src/anchored\n";
    files.module["p/q/src/.rf"] = "- local\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(": /.rf", 0, 0);
    set.set_transfer_root("p/q/src");
    set.push_dir(".");
    EXPECT_EQ(files.reads, (std::vector<std::string>{".rf", "p/.rf", "p/q/.rf", "p/q/src/.rf"}));
    EXPECT_TRUE(out(set, "from-root"));
    EXPECT_TRUE(out(set, "sub/from-p"));
    EXPECT_TRUE(out(set, "anchored"));
    EXPECT_FALSE(out(set, "sub/anchored"));
    EXPECT_TRUE(out(set, "local"));
    set.pop_dir();
    // The scan runs once and leaving the directory drops its rules: a second transfer root
    // does not see them (upstream: "rsync -r -f': ../../.rf' s1 s2" excludes s1/from-p but
    // not s2/from-p).
    set.push_dir("other");
    EXPECT_FALSE(out(set, "other/from-p"));
    EXPECT_FALSE(out(set, "from-root"));
    set.pop_dir();
    EXPECT_EQ(files.reads, (std::vector<std::string>{".rf", "p/.rf", "p/q/.rf", "p/q/src/.rf",
                                                     "p/q/src/other/.rf"}));
}

// Verifies that a scan start that is not an ancestor of the transfer root is skipped and
// only the file name is kept.
TEST(FilterMerge, ScanOutsideTheTransferSkipped)
{
    MapFiles files;
    files.module["src/.rf"] = "- local\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(": /elsewhere/.rf", 0, 0);
    set.set_transfer_root("src");
    set.push_dir(".");
    EXPECT_EQ(files.reads, std::vector<std::string>{"src/.rf"});
    EXPECT_TRUE(out(set, "local"));
    set.pop_dir();
}

// Verifies that rules for the other side are dropped from per-directory files, and that
// the 'e' modifier hides the merge file itself.
TEST(FilterMerge, SidesAndExcludeSelf)
{
    MapFiles files;
    files.module[".r"] = "H hid\nP prot\n- both\n";
    for (const FilterSide side : {FilterSide::Sender, FilterSide::Receiver}) {
        FilterSet set(role(side), files);
        set.add_client_rules(":e .r", 0, 0);
        set.push_dir(".");
        EXPECT_EQ(out(set, "hid"), side == FilterSide::Sender);
        EXPECT_EQ(out(set, "prot"), side == FilterSide::Receiver);
        EXPECT_TRUE(out(set, "both"));
        EXPECT_TRUE(out(set, "sub/.r"));
        set.pop_dir();
    }
}

// Verifies that a module's own dir-merge rule gives daemon exclusions during the walk,
// read as module files, and a module file hidden by the daemon list is not read.
TEST(FilterMerge, DaemonDirMerge)
{
    MapFiles files;
    files.module[".df"] = "- private\n";
    files.module["hidden/.df"] = "- x\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_daemon_rules(": .df - /hidden/", rule_flag::WordSplit,
                         xflag::AbsIfSlash | xflag::Dir2Wild3, "");
    set.push_dir(".");
    EXPECT_EQ(set.excluded("private", false), Exclusion::Daemon);
    set.push_dir("hidden");
    set.pop_dir();
    set.pop_dir();
    EXPECT_EQ(files.reads, std::vector<std::string>{".df"});
}

// Verifies that a directory name too long for a merge-file path flags an I/O error and
// reads nothing, and that pop_dir() without push_dir() is a logic error.
TEST(FilterMerge, LongDirectoryAndUnbalancedPop)
{
    MapFiles files;
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(": .r", 0, 0);
    set.push_dir(std::string(kMaxPathLen - 2, 'd'));
    EXPECT_TRUE(files.reads.empty());
    EXPECT_TRUE(set.take_io_error());
    EXPECT_FALSE(set.take_io_error());
    ASSERT_EQ(set.take_messages().size(), 1u);
    set.pop_dir();
    EXPECT_THROW(set.pop_dir(), std::logic_error);
}

// Verifies that a chain of merge files each naming the next stops at the bound on active
// per-directory merge files instead of growing without limit.
TEST(FilterMerge, ChainedDirMergesAreBounded)
{
    MapFiles files;
    for (int i = 0; i < 50; ++i)
        files.module[".m" + std::to_string(i)] =
            ": .m" + std::to_string(i + 1) + "\n- n" + std::to_string(i) + "\n";
    FilterOptions opt = role(FilterSide::Sender);
    opt.limits.max_dir_merges = 10;
    FilterSet set(opt, files);
    set.add_client_rules(": .m0", 0, 0);
    set.push_dir(".");
    EXPECT_TRUE(out(set, "n9"));
    EXPECT_FALSE(out(set, "n10"));
    EXPECT_EQ(files.reads.size(), 10u);
    set.pop_dir();
}

// Verifies that clearing the client list while directories are entered (its dir-merge lists
// go with it) and then adding new dir-merge rules never hands a new list an old list's saved
// state when leaving the directories (found by fuzz_filter_rules).
TEST(FilterMerge, ClearWhilePushedThenRecreate)
{
    MapFiles files;
    files.module[".r"] = "- a\n";
    FilterSet set(role(FilterSide::Sender), files);
    set.add_client_rules(": .r", 0, 0);
    set.push_dir(".");
    set.push_dir("d");
    set.add_client_rules("!", 0, 0);
    set.add_client_rules(": .r", 0, 0);
    set.push_dir(".");
    EXPECT_TRUE(out(set, "a"));
    set.add_client_rules("!", 0, 0);
    set.add_client_rules(": .", 0, 0);
    EXPECT_FALSE(out(set, "a"));
    EXPECT_NO_THROW(set.pop_dir());
    EXPECT_NO_THROW(set.pop_dir());
    EXPECT_NO_THROW(set.pop_dir());
    EXPECT_FALSE(out(set, "a"));
}

} // namespace
} // namespace ocr::transfer
