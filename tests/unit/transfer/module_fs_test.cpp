// SPDX-License-Identifier: MIT
#include "transfer/module_fs.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ocr::transfer {
namespace {

// A module tree: root/{file, dir/inner, inlink -> dir, outlink -> ../outside, up -> ..}
// with a sibling "outside" directory holding a secret.
class ModuleFsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/ocr-modfs-XXXXXX";
        base_ = ::mkdtemp(tmpl);
        root_ = base_ + "/root";
        ::mkdir(root_.c_str(), 0755);
        ::mkdir((base_ + "/outside").c_str(), 0755);
        std::ofstream(base_ + "/outside/secret") << "secret";
        std::ofstream(root_ + "/file") << "file";
        ::mkdir((root_ + "/dir").c_str(), 0755);
        std::ofstream(root_ + "/dir/inner") << "inner";
        ASSERT_EQ(::symlink("dir", (root_ + "/inlink").c_str()), 0);
        ASSERT_EQ(::symlink("../outside", (root_ + "/outlink").c_str()), 0);
        ASSERT_EQ(::symlink("..", (root_ + "/up").c_str()), 0);
        ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/abs").c_str()), 0);
        fs_.emplace(UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY)));
    }
    void TearDown() override { std::filesystem::remove_all(base_); }

    std::string base_;
    std::string root_;
    std::optional<ModuleFs> fs_;
};

// Verifies that files and directories beneath the root open, including through an in-module
// directory symlink in the middle of a path.
TEST_F(ModuleFsTest, InsideWorks)
{
    EXPECT_TRUE(fs_->open_read("file"));
    EXPECT_TRUE(fs_->open_read("/dir/inner"));
    EXPECT_TRUE(fs_->open_read("inlink/inner"));
    EXPECT_TRUE(fs_->open_dir("dir"));
    EXPECT_TRUE(fs_->open_dir(""));
    struct stat st{};
    ASSERT_EQ(fs_->stat("inlink", st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(fs_->stat("inlink", st, true), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(fs_->read_link("outlink"), "../outside");
}

// Verifies that nothing outside the root can be reached: "..", symlinks leading out (relative
// and absolute), and a symlink as the last component of a file open.
TEST_F(ModuleFsTest, OutsideIsRefused)
{
    EXPECT_FALSE(fs_->open_read("../outside/secret"));
    EXPECT_FALSE(fs_->open_read("outlink/secret"));
    EXPECT_FALSE(fs_->open_read("up/outside/secret"));
    EXPECT_FALSE(fs_->open_dir("outlink"));
    EXPECT_FALSE(fs_->open_read("abs", true));
    EXPECT_FALSE(fs_->open_read("inlink"));
    errno = 0;
    EXPECT_FALSE(fs_->open_read("abs"));
    EXPECT_EQ(errno, ELOOP);
    struct stat st{};
    EXPECT_NE(fs_->stat("outlink/secret", st), 0);
    errno = 0;
    EXPECT_FALSE(fs_->open_dir("outlink"));
    EXPECT_EQ(errno, ELOOP);
}

// Verifies that stat_through_link() answers what upstream's stat of a scanned name answers
// (the target of a final symlink, wherever it is) while a link in the middle of the path
// still may not lead out.
TEST_F(ModuleFsTest, StatThroughLinkFollowsOnlyTheLastLink)
{
    struct stat st{};
    ASSERT_EQ(fs_->stat_through_link("outlink", st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_EQ(fs_->stat_through_link("inlink", st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_EQ(fs_->stat_through_link("file", st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_NE(fs_->stat_through_link("outlink/secret", st), 0);
    EXPECT_NE(fs_->stat_through_link("up/outside", st), 0);
}

// Verifies that directory listings leave out "." and "..".
TEST_F(ModuleFsTest, ListsDirectories)
{
    auto d = fs_->open_dir("");
    auto names = fs_->list_dir(d.get());
    ASSERT_TRUE(names);
    std::sort(names->begin(), names->end());
    EXPECT_EQ(*names, (std::vector<std::string>{"abs", "dir", "file", "inlink", "outlink", "up"}));
}

// Verifies that --open-noatime puts O_NOATIME on the files and directories opened by name,
// and only when it is on.
TEST_F(ModuleFsTest, OpenNoatimeMarksFileAndDirectoryOpens)
{
    const auto has_noatime = [](const UniqueFd& fd) {
        const int fl = ::fcntl(fd.get(), F_GETFL);
        return fl >= 0 && (fl & O_NOATIME) != 0;
    };
    EXPECT_FALSE(fs_->open_noatime());
    auto plain_file = fs_->open_read("dir/inner");
    auto plain_dir = fs_->open_dir("dir");
    ASSERT_TRUE(plain_file);
    ASSERT_TRUE(plain_dir);
    EXPECT_FALSE(has_noatime(plain_file));
    EXPECT_FALSE(has_noatime(plain_dir));

    fs_->set_open_noatime(true);
    auto file = fs_->open_read("dir/inner");
    auto followed = fs_->open_read("inlink/inner", true);
    auto dir = fs_->open_dir("inlink");
    auto root = fs_->open_dir("");
    ASSERT_TRUE(file);
    ASSERT_TRUE(followed);
    ASSERT_TRUE(dir);
    ASSERT_TRUE(root);
    EXPECT_TRUE(has_noatime(file));
    EXPECT_TRUE(has_noatime(followed));
    EXPECT_TRUE(has_noatime(dir));
    EXPECT_TRUE(has_noatime(root));
    // Lookups that only pass through still work and the confinement is unchanged.
    struct stat st{};
    EXPECT_EQ(fs_->stat("dir/inner", st), 0);
    EXPECT_EQ(fs_->read_link("outlink"), "../outside");
    EXPECT_FALSE(fs_->open_read("outlink/secret"));
}

} // namespace
} // namespace ocr::transfer
