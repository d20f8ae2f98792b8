// SPDX-License-Identifier: MIT
// Tests of "fake super" on a real module tree: stand-ins, records, the push's attribute
// decisions (set_file_attrs with am_root -1) and the pull's view of the tree.
#include "protocol/protocol_error.hpp"
#include "transfer/module_fs.hpp"
#include "transfer/module_writer.hpp"
#include "transfer/push_attrs.hpp"
#include "transfer/stat_xattr.hpp"

#include "support/temp_dir.hpp"
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

// A module root with "file" (0644), "dir/" and, beside it, "outside/" holding "secret".
class FakeSuperTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        base_ = tmp_.path();
        root_ = base_ + "/root";
        ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir((base_ + "/outside").c_str(), 0755), 0);
        std::ofstream(base_ + "/outside/secret") << "secret";
        std::ofstream(p("file")) << "file";
        ASSERT_EQ(::chmod(p("file").c_str(), 0644), 0);
        ASSERT_EQ(::mkdir(p("dir").c_str(), 0755), 0);
        ASSERT_EQ(::symlink("../outside", p("out").c_str()), 0);
        root_fd_.reset(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(root_fd_);
        w_.emplace(root_fd_.get());
        settings_.am_root = -1;
        settings_.preserve_perms = true;
        settings_.preserve_uid = true;
        settings_.preserve_gid = true;
        settings_.preserve_mtimes = true;
    }
    void TearDown() override
    {
        w_.reset();
        root_fd_.reset();
    }

    std::string p(const std::string& rel) const { return root_ + "/" + rel; }

    std::optional<std::string> record(const std::string& rel) const
    {
        std::string buf(512, '\0');
        const ssize_t n = ::lgetxattr(p(rel).c_str(), kStatXattrName, buf.data(), buf.size());
        if (n < 0)
            return std::nullopt;
        buf.resize(static_cast<std::size_t>(n));
        return buf;
    }
    void set_record(const std::string& rel, const std::string& value) const
    {
        ASSERT_EQ(::lsetxattr(p(rel).c_str(), kStatXattrName, value.data(), value.size(), 0), 0);
    }
    struct stat real(const std::string& rel) const
    {
        struct stat st{};
        EXPECT_EQ(::lstat(p(rel).c_str(), &st), 0);
        return st;
    }
    AttrOutcome attrs(const std::string& rel, const AttrTarget& t, std::vector<std::string>* errors = nullptr)
    {
        return set_file_attrs(*w_, rel, -1, t, nullptr, settings_, 0, "\"" + rel + "\" (in mod)",
                              [errors](int err, const std::string& text) {
                                  if (errors)
                                      errors->push_back(text + " (" + std::to_string(err) + ")");
                              });
    }

    test::TempDir tmp_{"ocr-fakesuper"};
    std::string base_;
    std::string root_;
    UniqueFd root_fd_;
    std::optional<ModuleWriter> w_;
    AttrSettings settings_;
};

// Verifies that a symlink becomes a regular 0600 file holding its target, which reads back,
// is never created over an existing name and never through a symlinked directory.
TEST_F(FakeSuperTest, SymlinkStandIn)
{
    ASSERT_EQ(w_->fake_symlink("../some/target", "dir/link"), 0);
    const struct stat st = real("dir/link");
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(w_->read_fake_symlink("dir/link"), std::optional<std::string>("../some/target"));
    EXPECT_EQ(w_->fake_symlink("x", "dir/link"), EEXIST);
    EXPECT_EQ(w_->fake_symlink("x", "out/planted"), ELOOP);
    EXPECT_FALSE(std::filesystem::exists(base_ + "/outside/planted"));
    EXPECT_EQ(w_->fake_symlink("", "dir/empty"), EINVAL);
}

// Verifies that a real symlink is not read as a stand-in (upstream: "no length", so the
// generator replaces it), nor is an empty file.
TEST_F(FakeSuperTest, ReadFakeSymlinkRefusesRealSymlinks)
{
    EXPECT_FALSE(w_->read_fake_symlink("out").has_value());
    std::ofstream(p("empty")).flush();
    EXPECT_FALSE(w_->read_fake_symlink("empty").has_value());
}

// Verifies that a device, FIFO or socket becomes an empty regular 0600 file.
TEST_F(FakeSuperTest, SpecialStandIn)
{
    ASSERT_EQ(w_->fake_mknod("dev"), 0);
    const struct stat st = real("dev");
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(w_->fake_mknod("dev"), EEXIST);
    EXPECT_EQ(w_->fake_mknod("out/dev"), ELOOP);
}

// Verifies x_lstat: the record is laid over regular files and directories, and a corrupt
// or missing one is told apart.
TEST_F(FakeSuperTest, LstatLaysRecordOver)
{
    struct stat st{};
    StatXattrLookup found;
    ASSERT_EQ(w_->lstat_fake_super("file", st, found), 0);
    EXPECT_EQ(found.result, StatXattrLookup::Result::None);
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0644));
    set_record("file", "20620 1,3 11:12");
    ASSERT_EQ(w_->lstat_fake_super("file", st, found), 0);
    EXPECT_EQ(found.result, StatXattrLookup::Result::Found);
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFCHR | 0620));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    EXPECT_EQ(st.st_uid, 11u);
    EXPECT_EQ(st.st_gid, 12u);
    EXPECT_EQ(st.st_size, 4);
    set_record("dir", "42750 0,0 42:43");
    ASSERT_EQ(w_->lstat_fake_super("dir", st, found), 0);
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFDIR | 02750));
    set_record("file", "not a record");
    ASSERT_EQ(w_->lstat_fake_super("file", st, found), 0);
    EXPECT_EQ(found.result, StatXattrLookup::Result::Corrupt);
    EXPECT_EQ(found.raw, "not a record");
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0644));
    // A real symlink keeps its real stat; so does the module root without a record.
    ASSERT_EQ(w_->lstat_fake_super("out", st, found), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(found.result, StatXattrLookup::Result::None);
    ASSERT_EQ(w_->lstat_fake_super("", st, found), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(w_->lstat_fake_super("out/secret", st, found), ELOOP);
}

// Verifies set_stat_xattr through store_fake_super: a usable real mode, the record written,
// left alone when current, removed once the real stat says everything.
TEST_F(FakeSuperTest, StoreWritesKeepsAndRemoves)
{
    auto r = w_->store_fake_super("file", -1, S_IFREG | 04751, 0, 1234, 5678);
    EXPECT_EQ(r.step, ModuleWriter::StatXattrStore::Step::None);
    EXPECT_EQ(real("file").st_mode & 07777, 0751u);
    EXPECT_EQ(record("file"), std::optional<std::string>("104751 0,0 1234:5678"));
    r = w_->store_fake_super("file", -1, S_IFREG | 04751, 0, 1234, 5678);
    EXPECT_EQ(r.step, ModuleWriter::StatXattrStore::Step::None);
    EXPECT_EQ(record("file"), std::optional<std::string>("104751 0,0 1234:5678"));
    r = w_->store_fake_super("file", -1, S_IFREG | 0644, 0, ::geteuid(), ::getegid());
    EXPECT_EQ(r.step, ModuleWriter::StatXattrStore::Step::None);
    EXPECT_FALSE(record("file").has_value());
    EXPECT_EQ(real("file").st_mode & 07777, 0644u);
}

// Verifies that a stand-in records the type it stands for, device numbers included, and
// that a real symlink is left alone (no xattr, no error).
TEST_F(FakeSuperTest, StoreRecordsStandIns)
{
    ASSERT_EQ(w_->fake_mknod("blk"), 0);
    EXPECT_EQ(w_->store_fake_super("blk", -1, S_IFBLK | 0640, makedev(8, 1), 0, 6).step,
              ModuleWriter::StatXattrStore::Step::None);
    EXPECT_EQ(record("blk"), std::optional<std::string>("60640 8,1 0:6"));
    EXPECT_EQ(real("blk").st_mode & 07777, 0640u);
    ASSERT_EQ(w_->fake_symlink("dir", "sl"), 0);
    EXPECT_EQ(w_->store_fake_super("sl", -1, S_IFLNK | 0777, 0, 99, 98).step, ModuleWriter::StatXattrStore::Step::None);
    EXPECT_EQ(record("sl"), std::optional<std::string>("120777 0,0 99:98"));
    EXPECT_EQ(real("sl").st_mode & 07777, 0777u);
    const auto r = w_->store_fake_super("out", -1, S_IFLNK | 0777, 0, 1, 1);
    EXPECT_EQ(r.step, ModuleWriter::StatXattrStore::Step::None);
    EXPECT_FALSE(r.corrupt);
}

// Verifies that a corrupt record is reported back untouched, and that an open temp file is
// stored through its fd.
TEST_F(FakeSuperTest, StoreCorruptAndByFd)
{
    set_record("file", "junk");
    const auto r = w_->store_fake_super("file", -1, S_IFREG | 0600, 0, 1, 1);
    EXPECT_TRUE(r.corrupt);
    EXPECT_EQ(r.raw, "junk");
    EXPECT_EQ(record("file"), std::optional<std::string>("junk"));

    Errno err = 0;
    auto temp = w_->create_temp("dir/new", "", err);
    ASSERT_TRUE(temp.has_value());
    EXPECT_EQ(w_->store_fake_super("dir/new", temp->fd.get(), S_IFREG | 02700, 0, 3, 4).step,
              ModuleWriter::StatXattrStore::Step::None);
    std::string buf(64, '\0');
    const ssize_t n = ::fgetxattr(temp->fd.get(), kStatXattrName, buf.data(), buf.size());
    ASSERT_GT(n, 0);
    EXPECT_EQ(buf.substr(0, static_cast<std::size_t>(n)), "102700 0,0 3:4");
    w_->discard(*temp);
}

// Verifies a real FIFO in a fake-super module: its permissions are fixed, but a record
// cannot be stored on it (the kernel refuses user xattrs there), as upstream reports.
TEST_F(FakeSuperTest, StoreOnRealFifoFailsToWrite)
{
    ASSERT_EQ(::mkfifo(p("fifo").c_str(), 0600), 0);
    const auto r = w_->store_fake_super("fifo", -1, S_IFIFO | 0640, 0, 5, 6);
    EXPECT_EQ(r.step, ModuleWriter::StatXattrStore::Step::Write);
    EXPECT_EQ(r.err, EPERM);
    EXPECT_EQ(real("fifo").st_mode & 07777, 0640u);
}

// Verifies set_file_attrs under fake super: no chown (the real owner stays), owner change
// counted as an update, mode and owners in the record, times set on the stand-in.
TEST_F(FakeSuperTest, SetFileAttrsStoresRecordInsteadOfChown)
{
    AttrTarget t;
    t.mode = S_IFREG | 04755;
    t.uid = 1234;
    t.gid = 5678;
    t.mtime = 1'600'000'000;
    std::vector<std::string> errors;
    const AttrOutcome out = attrs("file", t, &errors);
    EXPECT_TRUE(out.ok);
    EXPECT_TRUE(out.updated);
    EXPECT_TRUE(errors.empty()) << errors.front();
    const struct stat st = real("file");
    EXPECT_EQ(st.st_uid, ::geteuid());
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(st.st_mtim.tv_sec, 1'600'000'000);
    EXPECT_EQ(record("file"), std::optional<std::string>("104755 0,0 1234:5678"));
    // Again: the record says it all, so nothing is updated.
    const AttrOutcome again = attrs("file", t, &errors);
    EXPECT_TRUE(again.ok);
    EXPECT_FALSE(again.updated);
}

// Verifies that in a dry run (not fake super) set_file_attrs changes no owner, time or mode
// yet reports the entry updated, as upstream's syscall.c wrappers succeed without acting.
TEST_F(FakeSuperTest, SetFileAttrsChangesNothingInADryRun)
{
    settings_.am_root = 1;
    settings_.dry_run = true;
    const struct stat before = real("file");
    AttrTarget t;
    t.mode = S_IFREG | 0600;
    t.uid = before.st_uid + 1;
    t.gid = before.st_gid + 1;
    t.mtime = 1'600'000'000;
    std::vector<std::string> errors;
    const AttrOutcome out = set_file_attrs(*w_, "file", -1, t, &before, settings_, 0, "\"file\" (in mod)",
                                           [&errors](int, const std::string& text) { errors.push_back(text); });
    EXPECT_TRUE(out.ok);
    EXPECT_TRUE(out.updated);
    EXPECT_TRUE(errors.empty());
    const struct stat after = real("file");
    EXPECT_EQ(after.st_mode, before.st_mode);
    EXPECT_EQ(after.st_uid, before.st_uid);
    EXPECT_EQ(after.st_gid, before.st_gid);
    EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

// Verifies that a device's numbers come from the target and that missing -o/-g record 0.
TEST_F(FakeSuperTest, SetFileAttrsRecordsDeviceNumbers)
{
    ASSERT_EQ(w_->fake_mknod("chr"), 0);
    AttrTarget t;
    t.mode = S_IFCHR | 0620;
    t.rdev_major = 1;
    t.rdev_minor = 3;
    settings_.preserve_uid = false;
    settings_.preserve_gid = false;
    (void)attrs("chr", t);
    EXPECT_EQ(record("chr"), std::optional<std::string>("20620 1,3 0:0"));
}

// Verifies that a malformed record ends the push with upstream's code 11 error.
TEST_F(FakeSuperTest, SetFileAttrsThrowsOnCorruptRecord)
{
    set_record("file", "garbage");
    AttrTarget t;
    t.mode = S_IFREG | 0644;
    try {
        (void)attrs("file", t);
        FAIL() << "no exception";
    } catch (const protocol::ProtocolError& e) {
        EXPECT_EQ(e.code(), protocol::ExitCode::FileIo);
        EXPECT_STREQ(e.what(), "Corrupt user.rsync.%stat xattr attached to \"file\" (in mod): \"garbage\"");
    }
}

// Verifies the pull side: with fake super on, ModuleFs reads stand-ins as symlinks' targets
// and lays records over stats; with it off, nothing changes.
TEST_F(FakeSuperTest, ModuleFsServesRecords)
{
    ASSERT_EQ(w_->fake_symlink("dir", "sl"), 0);
    set_record("sl", "120777 0,0 99:98");
    set_record("dir", "42750 0,0 42:43");
    ModuleFs fs(UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
    struct stat st{};
    ASSERT_EQ(fs.stat("sl", st, false), 0);
    EXPECT_EQ(fs.lay_over_record("sl", st, false).result, StatXattrLookup::Result::None);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_FALSE(fs.read_link("sl").has_value());

    fs.set_fake_super(true);
    ASSERT_EQ(fs.stat("sl", st, false), 0);
    EXPECT_EQ(fs.lay_over_record("sl", st, false).result, StatXattrLookup::Result::Found);
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFLNK | 0777));
    EXPECT_EQ(st.st_uid, 99u);
    EXPECT_EQ(fs.read_link("sl"), std::optional<std::string>("dir"));
    // A real symlink is read as one on the sending side.
    EXPECT_EQ(fs.read_link("out"), std::optional<std::string>("../outside"));

    UniqueFd dir(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_EQ(::fstatat(dir.get(), "dir", &st, AT_SYMLINK_NOFOLLOW), 0);
    EXPECT_EQ(fs.lay_over_record_at(dir.get(), "dir", st).result, StatXattrLookup::Result::Found);
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFDIR | 02750));
    // Followed: only beneath the module; the record of the target counts.
    ASSERT_EQ(::symlink("dir", p("todir").c_str()), 0);
    ASSERT_EQ(fs.stat("todir", st, true), 0);
    EXPECT_EQ(fs.lay_over_record("todir", st, true).result, StatXattrLookup::Result::Found);
    EXPECT_EQ(st.st_gid, 43u);
    set_record("file", "bad");
    ASSERT_EQ(fs.stat("file", st, false), 0);
    const auto found = fs.lay_over_record("file", st, false);
    EXPECT_EQ(found.result, StatXattrLookup::Result::Corrupt);
    EXPECT_EQ(found.raw, "bad");
}

} // namespace
} // namespace ocr::transfer
