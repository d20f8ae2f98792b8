// SPDX-License-Identifier: MIT
// Tests of the wildcard expansion of a pull's path arguments inside a module.
#include "transfer/module_glob.hpp"

#include "transfer/filter_daemon.hpp"
#include "transfer/filter_source.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

namespace ocr::transfer {
namespace {

namespace fs = std::filesystem;

class ModuleGlobTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/ocr_glob_test_XXXXXX";
        base_ = ::mkdtemp(tmpl);
        root_ = base_ + "/mod";
        fs::create_directories(root_ + "/dir1");
        fs::create_directories(root_ + "/dir2/inner");
        fs::create_directories(root_ + "/secret");
        for (const char* f : {"a.txt", "b.txt", "ab.log", ".hidden", "dir1/x.c", "dir1/y.h", "dir2/x.c",
                              "dir2/inner/z.c", "secret/s.txt"})
            std::ofstream(root_ + "/" + f) << "x";
        std::ofstream(base_ + "/outside.txt") << "o";
        fs::create_directory_symlink("dir1", root_ + "/link_dir");
        fs::create_symlink("../outside.txt", root_ + "/out_file");
        fs::create_symlink("../missing.txt", root_ + "/out_dangling");
        fs::create_directory_symlink("..", root_ + "/up");
        fs_.emplace(UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY)));
        FilterOptions fo;
        fo.role = FilterSide::Sender;
        filters_.emplace(fo, no_files_);
    }
    void TearDown() override { fs::remove_all(base_); }

    // Expands @p arg; the matches come back sorted (the order is the directory's).
    std::vector<std::string> glob(const std::string& arg, bool expect_match = true)
    {
        std::vector<std::string> out;
        EXPECT_EQ(glob_module_argument(*fs_, *filters_, arg, out), expect_match) << arg;
        std::sort(out.begin(), out.end());
        return out;
    }

    std::string base_;
    std::string root_;
    std::optional<ModuleFs> fs_;
    NoFilterFiles no_files_;
    std::optional<FilterSet> filters_;
};

using Names = std::vector<std::string>;

// Verifies that "*" matches within one component, dot files included (upstream's glob is
// wildmatch on every name but "." and "..").
TEST_F(ModuleGlobTest, StarMatchesNamesIncludingDotFiles)
{
    EXPECT_EQ(glob("*.txt"), (Names{"a.txt", "b.txt"}));
    EXPECT_EQ(glob(".h*"), (Names{".hidden"}));
    const Names all = glob("*");
    EXPECT_NE(std::find(all.begin(), all.end(), ".hidden"), all.end());
    EXPECT_EQ(std::find(all.begin(), all.end(), "."), all.end());
    EXPECT_EQ(std::find(all.begin(), all.end(), ".."), all.end());
}

// Verifies that "." and ".." are never produced by a pattern that would match them.
TEST_F(ModuleGlobTest, DotAndDotDotNeverMatch)
{
    EXPECT_EQ(glob(".*"), (Names{".hidden"}));
    EXPECT_EQ(glob("dir1/.?", false), (Names{"dir1/.?"}));
}

// Verifies "?" and bracket classes.
TEST_F(ModuleGlobTest, QuestionMarkAndBrackets)
{
    EXPECT_EQ(glob("?.txt"), (Names{"a.txt", "b.txt"}));
    EXPECT_EQ(glob("[a].txt"), (Names{"a.txt"}));
    EXPECT_EQ(glob("[!a]*.txt"), (Names{"b.txt"}));
    EXPECT_EQ(glob("a?.log"), (Names{"ab.log"}));
}

// Verifies patterns in several components, where leading components must be directories.
TEST_F(ModuleGlobTest, MultiLevelPatterns)
{
    EXPECT_EQ(glob("dir*/x.c"), (Names{"dir1/x.c", "dir2/x.c"}));
    EXPECT_EQ(glob("dir?/*"), (Names{"dir1/x.c", "dir1/y.h", "dir2/inner", "dir2/x.c"}));
    EXPECT_EQ(glob("*/inner/*.c"), (Names{"dir2/inner/z.c"}));
    // A file cannot lead on: "a.txt/x" matches nothing.
    EXPECT_EQ(glob("*.txt/x", false), (Names{"*.txt/x"}));
}

// Verifies that a pattern that matches nothing is kept as it is.
TEST_F(ModuleGlobTest, NonMatchingKeptAsIs)
{
    EXPECT_EQ(glob("*.none", false), (Names{"*.none"}));
    EXPECT_EQ(glob("nodir/*", false), (Names{"nodir/*"}));
}

// Verifies that a plain name is passed through without being looked up.
TEST_F(ModuleGlobTest, PlainNamesPassThrough)
{
    EXPECT_EQ(glob("no-such-file"), (Names{"no-such-file"}));
    EXPECT_EQ(glob("dir1/x.c"), (Names{"dir1/x.c"}));
}

// Verifies that a leading "./" is kept in the result.
TEST_F(ModuleGlobTest, LeadingDotSlashKept)
{
    EXPECT_EQ(glob("./*.txt"), (Names{"./a.txt", "./b.txt"}));
    EXPECT_EQ(glob("./dir1/./x*"), (Names{"./dir1/./x.c"}));
}

// Verifies that a directory the module's filter hides is neither matched nor descended,
// also behind a "./" (the filter sees the path without it).
TEST_F(ModuleGlobTest, ModuleFilterHidesDirectory)
{
    load_module_filters(*filters_, ModuleFilterConfig{"", "", "", "", "secret/", root_});
    const Names all = glob("*");
    EXPECT_EQ(std::find(all.begin(), all.end(), "secret"), all.end());
    EXPECT_EQ(glob("s*/*.txt", false), (Names{"s*/*.txt"}));
    EXPECT_EQ(glob("./sec*", false), (Names{"./sec*"}));
    // A plain last component is not looked up, but the hidden directory is not offered.
    EXPECT_EQ(glob("*/s.txt"), (Names{"dir1/s.txt", "dir2/s.txt", "link_dir/s.txt"}));
}

// Verifies that a symlink to a directory inside the module can lead on, like a directory.
TEST_F(ModuleGlobTest, SymlinkToDirectoryInTheMiddle)
{
    EXPECT_EQ(glob("link_*/x.c"), (Names{"link_dir/x.c"}));
    // Every directory leads on (the plain last component is not looked up); "up" leaves
    // the module and does not.
    EXPECT_EQ(glob("*/y.h"), (Names{"dir1/y.h", "dir2/y.h", "link_dir/y.h", "secret/y.h"}));
}

// Verifies that a symlink out of the module matches as the last component when its
// target exists (upstream's stat follows it), but never leads further.
TEST_F(ModuleGlobTest, SymlinkOutOfModule)
{
    EXPECT_EQ(glob("out_*"), (Names{"out_file"}));
    EXPECT_EQ(glob("u*/mod/a.txt", false), (Names{"u*/mod/a.txt"}));
    EXPECT_EQ(glob("up/*", false), (Names{"up/*"}));
}

} // namespace
} // namespace ocr::transfer
