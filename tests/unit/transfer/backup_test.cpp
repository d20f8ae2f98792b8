// SPDX-License-Identifier: MIT
// Tests of the push's backups on real temp directories, with symlinks planted to lure them out.
#include "transfer/backup.hpp"

#include "support/temp_dir.hpp"
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace ocr::transfer {
namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class BackupTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        base_ = tmp_.path();
        root_ = base_ + "/root";
        outside_ = base_ + "/outside";
        fs::create_directories(root_ + "/dest/sub");
        fs::create_directories(outside_);
        std::ofstream(outside_ + "/secret") << "secret";
        std::ofstream(root_ + "/dest/file") << "old file";
        std::ofstream(root_ + "/dest/sub/inner") << "old inner";
        ASSERT_EQ(::chmod((root_ + "/dest/sub").c_str(), 0750), 0);
        root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_GE(root_fd_, 0);
        writer_ = std::make_unique<ModuleWriter>(root_fd_);
    }

    void TearDown() override
    {
        if (root_fd_ >= 0)
            ::close(root_fd_);
    }

    std::string d(const std::string& rel) const { return root_ + "/dest/" + rel; }

    BackupMaker make(const std::string& dir, std::string suffix)
    {
        BackupSettings s;
        s.base = "dest";
        if (!dir.empty()) {
            s.dir = "dest/" + dir;
            s.dir_shown = dir + "/";
        }
        s.suffix = std::move(suffix);
        s.preserve_links = true;
        s.info_backup = 1;
        s.attrs.preserve_perms = true;
        s.attrs.preserve_mtimes = true;
        BackupMaker::Hooks h;
        h.message = [this](LogCode, std::string text) { messages_ += text; };
        h.syserr = [this](LogCode, int err, std::string text) {
            messages_ += "rsync: " + text + ": " + std::to_string(err) + "\n";
        };
        return BackupMaker(*writer_, std::move(s), std::move(h));
    }

    void expect_outside_intact() const
    {
        EXPECT_EQ(read_all(outside_ + "/secret"), "secret");
        EXPECT_EQ(std::distance(fs::directory_iterator(outside_), fs::directory_iterator{}), 1);
    }

    test::TempDir tmp_{"ocr-backup"};
    std::string base_, root_, outside_;
    int root_fd_ = -1;
    std::unique_ptr<ModuleWriter> writer_;
    std::string messages_;
};

TEST_F(BackupTest, SuffixBackupHardLinksOrRenames)
{
    // Verifies -b without a backup dir: a replaced file is hard-linked to NAME~ (the original
    // stays for the rename over it), a deleted one is renamed to NAME~.
    BackupMaker b = make("", "~");
    EXPECT_EQ(b.make_backup("file", false), BackupResult::Duplicated);
    EXPECT_EQ(read_all(d("file~")), "old file");
    EXPECT_TRUE(fs::exists(d("file")));
    EXPECT_EQ(messages_, "backed up file to file~\n");
    EXPECT_EQ(b.make_backup("sub/inner", true), BackupResult::Moved);
    EXPECT_FALSE(fs::exists(d("sub/inner")));
    EXPECT_EQ(read_all(d("sub/inner~")), "old inner");
}

TEST_F(BackupTest, BackupDirGetsTheSourceDirectoriesAttributes)
{
    // Verifies --backup-dir: the backup dir and its missing subdirectories are created, the
    // new subdirectory gets the mode of the directory the file came from (its time is set
    // too, but linking the backup into it changes it again, as upstream's does).
    BackupMaker b = make("bak/deeper", "");
    EXPECT_EQ(b.make_backup("sub/inner", false), BackupResult::Duplicated);
    EXPECT_EQ(read_all(d("bak/deeper/sub/inner")), "old inner");
    EXPECT_EQ(read_all(d("sub/inner")), "old inner");
    struct stat st{};
    ASSERT_EQ(::lstat(d("bak/deeper/sub").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0750u);
    EXPECT_EQ(messages_, "backed up sub/inner to bak/deeper/sub/inner\n");
}

TEST_F(BackupTest, SymlinkInTheBackupPathIsReplacedNotFollowed)
{
    // Verifies that a symlink planted where a backup subdirectory goes (bak/sub -> outside)
    // is removed and replaced by a real directory: nothing is written outside the module.
    fs::create_directories(d("bak"));
    ASSERT_EQ(::symlink(outside_.c_str(), d("bak/sub").c_str()), 0);
    BackupMaker b = make("bak", "");
    EXPECT_EQ(b.make_backup("sub/inner", true), BackupResult::Moved);
    EXPECT_TRUE(fs::is_directory(fs::symlink_status(d("bak/sub"))));
    EXPECT_EQ(read_all(d("bak/sub/inner")), "old inner");
    expect_outside_intact();
}

TEST_F(BackupTest, SymlinkAsBackupDirIsNotFollowed)
{
    // Verifies that a --backup-dir that is itself a symlink to the outside is refused (the
    // walk never follows it) and nothing lands outside.
    ASSERT_EQ(::symlink(outside_.c_str(), d("bak").c_str()), 0);
    BackupMaker b = make("bak", "");
    EXPECT_EQ(b.make_backup("file", false), BackupResult::Failed);
    EXPECT_TRUE(fs::exists(d("file")));
    expect_outside_intact();
}

TEST_F(BackupTest, SymlinkIsBackedUpAsALink)
{
    // Verifies that a symlink being replaced is backed up as the link itself, never through it.
    ASSERT_EQ(::symlink("../../outside/secret", d("link").c_str()), 0);
    BackupMaker b = make("bak", "");
    EXPECT_EQ(b.make_backup("link", true), BackupResult::Moved);
    char target[256] = {};
    ASSERT_GT(::readlink(d("bak/link").c_str(), target, sizeof target - 1), 0);
    EXPECT_STREQ(target, "../../outside/secret");
    expect_outside_intact();
}

TEST_F(BackupTest, ExistingBackupOfAnotherTypeIsReplaced)
{
    // Verifies that a directory sitting at the backup name is removed and the backup made
    // (upstream: delete_item with DEL_FOR_BACKUP, then link_or_rename again).
    fs::create_directories(d("bak/file/junk"));
    BackupMaker b = make("bak", "");
    EXPECT_EQ(b.make_backup("file", false), BackupResult::Duplicated);
    EXPECT_EQ(read_all(d("bak/file")), "old file");
}

TEST_F(BackupTest, NothingToKeepForAMissingFile)
{
    // Verifies that backing up a name that does not exist is a success with nothing made.
    BackupMaker b = make("bak", "");
    EXPECT_EQ(b.make_backup("absent", false), BackupResult::NothingToKeep);
    EXPECT_FALSE(fs::exists(d("bak")));
    EXPECT_EQ(messages_, "");
}

TEST_F(BackupTest, TooLongBackupNameFails)
{
    // Verifies upstream's "backup filename too long" when the backup name exceeds the limit.
    BackupSettings s;
    s.base = "dest";
    s.suffix = std::string(20, '~');
    s.max_name = 20;
    BackupMaker::Hooks h;
    h.message = [this](LogCode, std::string text) { messages_ += text; };
    BackupMaker b(*writer_, s, std::move(h));
    EXPECT_EQ(b.make_backup("file", false), BackupResult::Failed);
    EXPECT_EQ(messages_, "backup filename too long\n");
}

TEST_F(BackupTest, DryRunChangesNothing)
{
    // Verifies that a dry run reports the backup and creates nothing.
    BackupSettings s;
    s.base = "dest";
    s.dir = "dest/bak";
    s.dir_shown = "bak/";
    s.suffix = "";
    s.dry_run = true;
    BackupMaker b(*writer_, s, {});
    EXPECT_NE(b.make_backup("file", true), BackupResult::Failed);
    EXPECT_FALSE(fs::exists(d("bak")));
    EXPECT_TRUE(fs::exists(d("file")));
}

TEST_F(BackupTest, InplaceBackupIsACopyWithTheOriginalsAttributes)
{
    // Verifies the --inplace backup: an independent copy (not a hard link, which the in-place
    // update would change too) with the original's mode and mtime, replacing an older backup.
    ASSERT_EQ(::chmod(d("file").c_str(), 0640), 0);
    const timespec times[2] = {{1'400'000'000, 0}, {1'400'000'000, 77}};
    ASSERT_EQ(::utimensat(AT_FDCWD, d("file").c_str(), times, 0), 0);
    std::ofstream(d("file~")) << "older backup";
    BackupMaker b = make("", "~");
    const auto name = b.copy_backup("file");
    ASSERT_TRUE(name);
    EXPECT_EQ(*name, "file~");
    EXPECT_EQ(b.module_path_of_backup(*name), "dest/file~");
    EXPECT_EQ(read_all(d("file~")), "old file");
    struct stat orig{}, copy{};
    ASSERT_EQ(::lstat(d("file").c_str(), &orig), 0);
    ASSERT_EQ(::lstat(d("file~").c_str(), &copy), 0);
    EXPECT_NE(orig.st_ino, copy.st_ino);
    EXPECT_EQ(copy.st_mode & 07777, 0640u);
    EXPECT_EQ(copy.st_mtim.tv_sec, 1'400'000'000);
    EXPECT_EQ(copy.st_mtim.tv_nsec, 77);
    EXPECT_FALSE(b.copy_backup("absent"));
}

TEST_F(BackupTest, CopiedBackupHasNoNanosecondsBelowProtocol31)
{
    // Verifies that below protocol 31 a copied backup gets its original's mtime in whole
    // seconds, as upstream's make_file keeps no nanoseconds then.
    const timespec times[2] = {{1'400'000'000, 0}, {1'400'000'000, 77}};
    ASSERT_EQ(::utimensat(AT_FDCWD, d("file").c_str(), times, 0), 0);
    BackupSettings s;
    s.base = "dest";
    s.suffix = "~";
    s.protocol = 30;
    s.attrs.preserve_mtimes = true;
    BackupMaker b(*writer_, s, {});
    ASSERT_TRUE(b.copy_backup("file", false));
    struct stat copy{};
    ASSERT_EQ(::lstat(d("file~").c_str(), &copy), 0);
    EXPECT_EQ(copy.st_mtim.tv_sec, 1'400'000'000);
    EXPECT_EQ(copy.st_mtim.tv_nsec, 0);
}

TEST_F(BackupTest, InplaceBackupAnnouncedLaterWhenAsked)
{
    // Verifies that copy_backup(name, false) makes the copy without the "backed up" line,
    // which announce() then gives (upstream says it after the file's sums are sent).
    BackupMaker b = make("", "~");
    const auto name = b.copy_backup("file", false);
    ASSERT_TRUE(name);
    EXPECT_EQ(read_all(d("file~")), "old file");
    EXPECT_EQ(messages_, "");
    b.announce("file", *name);
    EXPECT_EQ(messages_, "backed up file to file~\n");
}

} // namespace
} // namespace ocr::transfer
