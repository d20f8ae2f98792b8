// SPDX-License-Identifier: MIT
// Tests of the push's deletion on real temp directories, with symlinks planted to lure it out.
#include "transfer/deleter.hpp"

#include "support/temp_dir.hpp"
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace ocr::transfer {
namespace {

namespace fs = std::filesystem;

protocol::FileEntry entry(const std::string& name, std::uint32_t mode)
{
    protocol::FileEntry e;
    e.name = name;
    e.mode = mode;
    return e;
}

// A module root holding the destination "dest", and beside the root an "outside" sentinel.
class DeleterTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        base_ = tmp_.path();
        root_ = base_ + "/root";
        outside_ = base_ + "/outside";
        fs::create_directories(root_ + "/dest");
        fs::create_directories(outside_ + "/inner");
        write(outside_ + "/secret", "secret");
        write(outside_ + "/inner/deep", "deep");
        root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_GE(root_fd_, 0);
        writer_ = std::make_unique<ModuleWriter>(root_fd_);
    }

    void TearDown() override
    {
        if (root_fd_ >= 0)
            ::close(root_fd_);
    }

    static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

    std::string d(const std::string& rel) const { return root_ + "/dest/" + rel; }

    Deleter make(DeleterSettings s = {}, BackupMaker* backup = nullptr)
    {
        s.base = "dest";
        Deleter::Hooks h;
        h.deleted = [this](std::string_view name, std::uint32_t mode) {
            deleted_.push_back(std::string(name) + (S_ISDIR(mode) ? "/" : ""));
        };
        h.message = [this](LogCode, std::string text) { messages_ += text; };
        h.syserr = [this](LogCode, int err, std::string text) {
            messages_ += "rsync: " + text + ": " + std::to_string(err) + "\n";
        };
        h.io_error = [this] { return io_error_; };
        h.add_io_error = [this](int bits) { io_error_ |= bits; };
        h.excluded = [this](std::string_view name, bool, bool) {
            for (const std::string& p : protected_)
                if (name == p)
                    return true;
            return false;
        };
        return Deleter(*writer_, std::move(s), std::move(h), backup);
    }

    void expect_outside_intact() const
    {
        EXPECT_TRUE(fs::exists(outside_ + "/secret"));
        EXPECT_TRUE(fs::exists(outside_ + "/inner/deep"));
        std::ifstream in(outside_ + "/secret");
        std::string text;
        in >> text;
        EXPECT_EQ(text, "secret");
    }

    test::TempDir tmp_{"ocr-deleter"};
    std::string base_, root_, outside_;
    int root_fd_ = -1;
    std::unique_ptr<ModuleWriter> writer_;
    std::vector<std::string> deleted_;
    std::string messages_;
    int io_error_ = 0;
    std::vector<std::string> protected_;
};

TEST_F(DeleterTest, DeletesWhatTheListLacksInUpstreamOrder)
{
    // Verifies that delete_in_dir removes every entry the sender lacks, children before their
    // directory, directories first (the reverse of upstream's sorted list), and keeps the rest.
    write(d("keep"), "k");
    write(d("a"), "a");
    write(d("b"), "b");
    fs::create_directories(d("sub/deeper"));
    write(d("sub/x"), "x");
    write(d("sub/deeper/y"), "y");
    std::vector<protocol::FileEntry> list{entry(".", 040755), entry("keep", 0100644)};
    ListNames names;
    names.add(list);
    Deleter del = make();
    del.delete_in_dir(".", names);
    const std::vector<std::string> want{"sub/deeper/y", "sub/deeper/", "sub/x", "sub/", "b", "a"};
    EXPECT_EQ(deleted_, want);
    EXPECT_TRUE(fs::exists(d("keep")));
    EXPECT_FALSE(fs::exists(d("sub")));
    EXPECT_EQ(del.stats().files, 6);
    EXPECT_EQ(del.stats().dirs, 2);
    EXPECT_EQ(del.stats().regular(), 4);
    EXPECT_EQ(messages_, "");
}

TEST_F(DeleterTest, OldProtocolsSortDirectoriesAmongFiles)
{
    // Verifies that below protocol 29 a directory sorts by its plain name among the files.
    write(d("a"), "a");
    fs::create_directories(d("b"));
    write(d("c"), "c");
    Deleter del = make([] {
        DeleterSettings s;
        s.protocol = 28;
        return s;
    }());
    del.delete_in_dir(".", ListNames{});
    const std::vector<std::string> want{"c", "b/", "a"};
    EXPECT_EQ(deleted_, want);
}

TEST_F(DeleterTest, PlantedSymlinksAreUnlinkedNeverFollowed)
{
    // Verifies that symlinks to a directory and a file outside the module are removed as
    // links: nothing beyond them is listed, deleted or changed.
    ASSERT_EQ(::symlink(outside_.c_str(), d("escape").c_str()), 0);
    ASSERT_EQ(::symlink("../../outside/secret", d("secretlink").c_str()), 0);
    fs::create_directories(d("dir"));
    ASSERT_EQ(::symlink("../../../outside/inner", d("dir/in").c_str()), 0);
    Deleter del = make();
    del.delete_in_dir(".", ListNames{});
    EXPECT_FALSE(fs::exists(fs::symlink_status(d("escape"))));
    EXPECT_FALSE(fs::exists(fs::symlink_status(d("secretlink"))));
    EXPECT_FALSE(fs::exists(fs::symlink_status(d("dir"))));
    EXPECT_EQ(del.stats().symlinks, 3);
    expect_outside_intact();
}

TEST_F(DeleterTest, ParentSwappedForSymlinkFailsInsideTheModule)
{
    // Verifies that a directory named for deletion but replaced by a symlink to the outside
    // is unlinked as a symlink: the sentinel's contents stay.
    fs::create_directories(d("victim"));
    ASSERT_EQ(::rmdir(d("victim").c_str()), 0);
    ASSERT_EQ(::symlink(outside_.c_str(), d("victim").c_str()), 0);
    Deleter del = make();
    // Asked as if it were still a directory (the listing raced with the swap).
    EXPECT_NE(del.delete_item("victim", 040755, del_flag::kRecurse), DelResult::Success);
    expect_outside_intact();
}

TEST_F(DeleterTest, MaxDeleteStopsAndCountsSkipped)
{
    // Verifies --max-delete: after the limit nothing more is deleted, the skipped entries are
    // counted (a directory kept non-empty says so), and the end warning adds IOERR_DEL_LIMIT.
    fs::create_directories(d("xd/sub"));
    write(d("xd/sub/f"), "f");
    write(d("extra"), "x");
    DeleterSettings s;
    s.max_delete = 1;
    Deleter del = make(s);
    del.delete_in_dir(".", ListNames{});
    const std::vector<std::string> want{"xd/sub/f"};
    EXPECT_EQ(deleted_, want);
    EXPECT_EQ(del.skipped(), 2); // xd/sub and extra (xd's own rmdir is not reached)
    EXPECT_EQ(messages_, "cannot delete non-empty directory: xd\n");
    del.report_limit();
    EXPECT_NE(messages_.find("Deletions stopped due to --max-delete limit (2 skipped)\n"), std::string::npos);
    EXPECT_EQ(io_error_ & kIoErrorDelLimit, kIoErrorDelLimit);
    EXPECT_TRUE(fs::exists(d("extra")));
}

TEST_F(DeleterTest, MaxDeleteZeroDeletesNothing)
{
    // Verifies that --max-delete=0 (upstream: negative values too) deletes nothing at all.
    write(d("extra"), "x");
    DeleterSettings s;
    s.max_delete = 0;
    Deleter del = make(s);
    del.delete_in_dir(".", ListNames{});
    EXPECT_TRUE(deleted_.empty());
    EXPECT_TRUE(fs::exists(d("extra")));
    EXPECT_EQ(del.skipped(), 1);
}

TEST_F(DeleterTest, ProtectedNamesSurviveAndKeepTheirDirectory)
{
    // Verifies that names the filters exclude (protect rules, module excludes) are neither
    // deleted nor let their directory be removed.
    write(d("prot"), "p");
    fs::create_directories(d("dir"));
    write(d("dir/keepme"), "k");
    write(d("dir/gone"), "g");
    protected_ = {"prot", "dir/keepme"};
    Deleter del = make();
    del.delete_in_dir(".", ListNames{});
    const std::vector<std::string> want{"dir/gone"};
    EXPECT_EQ(deleted_, want);
    EXPECT_TRUE(fs::exists(d("prot")));
    EXPECT_TRUE(fs::exists(d("dir/keepme")));
    EXPECT_EQ(messages_, "cannot delete non-empty directory: dir\n");
}

TEST_F(DeleterTest, IoErrorSkipsDeletionUnlessIgnored)
{
    // Verifies that after an I/O error deletion is skipped with one message, and that
    // --ignore-errors deletes anyway.
    write(d("extra"), "x");
    io_error_ = kIoErrorGeneral;
    Deleter del = make();
    del.delete_in_dir(".", ListNames{});
    del.delete_in_dir(".", ListNames{});
    EXPECT_TRUE(fs::exists(d("extra")));
    EXPECT_EQ(messages_, "IO error encountered -- skipping file deletion\n");

    DeleterSettings s;
    s.ignore_errors = true;
    Deleter ignoring = make(s);
    ignoring.delete_in_dir(".", ListNames{});
    EXPECT_FALSE(fs::exists(d("extra")));
}

TEST_F(DeleterTest, DelayRemembersUntilDelayedDeletions)
{
    // Verifies --delete-delay: delete_in_dir only remembers; delayed_deletions deletes.
    write(d("extra"), "x");
    DeleterSettings s;
    s.timing.during = 2;
    Deleter del = make(s);
    EXPECT_FALSE(del.timing().early_done());
    del.delete_in_dir(".", ListNames{});
    EXPECT_TRUE(fs::exists(d("extra")));
    EXPECT_TRUE(deleted_.empty());
    del.delayed_deletions();
    EXPECT_FALSE(fs::exists(d("extra")));
    EXPECT_EQ(deleted_, std::vector<std::string>{"extra"});
}

TEST_F(DeleterTest, DelayOverflowFallsBackToDeleteAfter)
{
    // Verifies that past the delete-delay bound the remembered names are dropped with
    // upstream's NOTE and the timing becomes --delete-after (without incremental recursion).
    write(d("extra1"), "x");
    write(d("extra2"), "x");
    DeleterSettings s;
    s.timing.during = 2;
    s.max_delay_bytes = 1;
    Deleter del = make(s);
    del.delete_in_dir(".", ListNames{});
    EXPECT_EQ(messages_, "NOTE: Unable to create delete-delay temp file -- switching to --delete-after.\n");
    EXPECT_EQ(del.timing().during, 0);
    EXPECT_TRUE(del.timing().after);
    del.delayed_deletions();
    EXPECT_TRUE(fs::exists(d("extra1")));
}

TEST_F(DeleterTest, DryRunReportsButKeeps)
{
    // Verifies that a dry run reports each deletion and changes nothing.
    fs::create_directories(d("sub"));
    write(d("sub/f"), "f");
    DeleterSettings s;
    s.dry_run = true;
    Deleter del = make(s);
    del.delete_in_dir(".", ListNames{});
    const std::vector<std::string> want{"sub/f", "sub/"};
    EXPECT_EQ(deleted_, want);
    EXPECT_TRUE(fs::exists(d("sub/f")));
}

TEST_F(DeleterTest, MakeRoomNeedsRecursionForANonEmptyDirectory)
{
    // Verifies that making room for a file where a non-empty directory is fails without
    // --delete (upstream's two messages) and succeeds with it, the room-making itself not
    // being logged as a deletion (its contents are).
    fs::create_directories(d("in_way"));
    write(d("in_way/f"), "f");
    struct stat st{};
    ASSERT_EQ(::lstat(d("in_way").c_str(), &st), 0);
    Deleter del = make();
    EXPECT_FALSE(del.make_room("in_way", st, 0100644, false));
    EXPECT_EQ(messages_, "cannot delete non-empty directory: in_way\n"
                         "could not make way for new regular file: in_way\n");
    EXPECT_TRUE(fs::exists(d("in_way/f")));
    messages_.clear();
    EXPECT_TRUE(del.make_room("in_way", st, 0100644, true));
    EXPECT_FALSE(fs::exists(d("in_way")));
    EXPECT_EQ(deleted_, std::vector<std::string>{"in_way/f"});
    EXPECT_EQ(del.stats().dirs, 0);
}

TEST_F(DeleterTest, DeletePassVisitsContentDirectories)
{
    // Verifies do_delete_pass: every content directory of the list is cleaned, a missing one
    // is skipped.
    fs::create_directories(d("a"));
    write(d("a/old"), "o");
    write(d("a/new"), "n");
    std::vector<protocol::FileEntry> list{entry(".", 040755), entry("a", 040755), entry("a/new", 0100644),
                                          entry("missing", 040755)};
    for (auto& e : list)
        e.content_dir = protocol::is_dir(e.mode);
    ListNames names;
    names.add(list);
    Deleter del = make();
    del.delete_pass(list, names);
    EXPECT_EQ(deleted_, std::vector<std::string>{"a/old"});
    EXPECT_TRUE(fs::exists(d("a/new")));
}

TEST_F(DeleterTest, BacksUpDeletedFilesWithBackupDir)
{
    // Verifies that with -b --backup-dir a deleted file is moved into the backup directory
    // (still reported as deleted), while directories are just removed.
    fs::create_directories(d("sub"));
    write(d("sub/f"), "content");
    BackupSettings bs;
    bs.base = "dest";
    bs.dir = "dest/bak";
    bs.dir_shown = "bak/";
    bs.suffix = "";
    BackupMaker backup(*writer_, bs, {});
    Deleter del = make({}, &backup);
    ListNames names;
    std::vector<protocol::FileEntry> list{entry("bak", 040755)};
    names.add(list);
    del.delete_in_dir(".", names);
    const std::vector<std::string> want{"sub/f", "sub/"};
    EXPECT_EQ(deleted_, want);
    std::ifstream in(d("bak/sub/f"));
    std::string text;
    in >> text;
    EXPECT_EQ(text, "content");
    EXPECT_FALSE(fs::exists(d("sub")));
}

TEST_F(DeleterTest, SuffixBackupsAreNotBackedUpAgain)
{
    // Verifies upstream's is_backup_file: without a backup dir, a file already ending in the
    // suffix is deleted, not renamed to "name~~".
    write(d("old~"), "o");
    write(d("plain"), "p");
    BackupSettings bs;
    bs.base = "dest";
    BackupMaker backup(*writer_, bs, {});
    Deleter del = make({}, &backup);
    del.delete_in_dir(".", ListNames{});
    EXPECT_FALSE(fs::exists(d("old~")));
    EXPECT_FALSE(fs::exists(d("old~~")));
    EXPECT_TRUE(fs::exists(d("plain~")));
    EXPECT_FALSE(fs::exists(d("plain")));
}

} // namespace
} // namespace ocr::transfer
