// SPDX-License-Identifier: MIT
// Tests of ModuleWriter: every change stays beneath the module root, whatever symlinks say.
#include "transfer/module_writer.hpp"

#include "support/temp_dir.hpp"
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

bool timespec_eq(const timespec& a, const timespec& b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// Everything observable about the sentinel directory beside the module.
struct Snapshot {
    struct stat dir{};
    struct stat secret{};
    std::string content;
    std::vector<std::string> names;
};

// A module "root" and, beside it, an "outside" sentinel directory that the writer must never
// touch; root/out -> ../outside, root/abs -> /abs/path/outside, root/outfile -> ../outside/secret.
class ModuleWriterTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        base_ = tmp_.path();
        root_ = base_ + "/root";
        outside_ = base_ + "/outside";
        ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
        std::ofstream(outside_ + "/secret") << "secret";
        ASSERT_EQ(::chmod((outside_ + "/secret").c_str(), 0644), 0);
        std::ofstream(root_ + "/file") << "file";
        ASSERT_EQ(::mkdir((root_ + "/dir").c_str(), 0755), 0);
        ASSERT_EQ(::symlink("../outside", (root_ + "/out").c_str()), 0);
        ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/abs").c_str()), 0);
        ASSERT_EQ(::symlink("../outside/secret", (root_ + "/outfile").c_str()), 0);
        ASSERT_EQ(::symlink("dir", (root_ + "/inlink").c_str()), 0);
        root_fd_.reset(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(root_fd_);
        w_.emplace(root_fd_.get());
        // Timestamps must be able to move if anything touches the sentinel.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        before_ = snapshot();
    }
    void TearDown() override
    {
        w_.reset();
        root_fd_.reset();
    }

    Snapshot snapshot() const
    {
        Snapshot s;
        ::lstat(outside_.c_str(), &s.dir);
        ::lstat((outside_ + "/secret").c_str(), &s.secret);
        s.content = read_all(outside_ + "/secret");
        for (const auto& e : fs::directory_iterator(outside_))
            s.names.push_back(e.path().filename().string());
        std::sort(s.names.begin(), s.names.end());
        return s;
    }

    void expect_sentinel_untouched() const
    {
        const Snapshot now = snapshot();
        EXPECT_EQ(now.names, std::vector<std::string>{"secret"});
        EXPECT_EQ(now.content, "secret");
        EXPECT_EQ(now.secret.st_mode, before_.secret.st_mode);
        EXPECT_EQ(now.secret.st_uid, before_.secret.st_uid);
        EXPECT_EQ(now.secret.st_gid, before_.secret.st_gid);
        EXPECT_TRUE(timespec_eq(now.secret.st_mtim, before_.secret.st_mtim));
        EXPECT_TRUE(timespec_eq(now.secret.st_ctim, before_.secret.st_ctim));
        EXPECT_TRUE(timespec_eq(now.dir.st_mtim, before_.dir.st_mtim));
        EXPECT_TRUE(timespec_eq(now.dir.st_ctim, before_.dir.st_ctim));
        EXPECT_EQ(now.dir.st_mode, before_.dir.st_mode);
    }

    std::string p(const std::string& rel) const { return root_ + "/" + rel; }
    bool exists(const std::string& rel) const
    {
        struct stat st{};
        return ::lstat(p(rel).c_str(), &st) == 0;
    }

    test::TempDir tmp_{"ocr-modwr"};
    std::string base_;
    std::string root_;
    std::string outside_;
    UniqueFd root_fd_;
    std::optional<ModuleWriter> w_;
    Snapshot before_;
};

// Verifies that the root and in-module directories open, and that symlinks and ".." do not.
TEST_F(ModuleWriterTest, OpenDirIsConfined)
{
    Errno err = 0;
    EXPECT_TRUE(w_->open_dir("", err));
    EXPECT_TRUE(w_->open_dir(".", err));
    EXPECT_TRUE(w_->open_dir("/", err));
    EXPECT_TRUE(w_->open_dir("dir", err));
    EXPECT_FALSE(w_->open_dir("out", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_FALSE(w_->open_dir("abs", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_FALSE(w_->open_dir("inlink", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_FALSE(w_->open_dir("..", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_FALSE(w_->open_dir("dir/../..", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_FALSE(w_->open_dir("missing", err));
    EXPECT_EQ(err, ENOENT);
}

// Verifies that lstat reports a symlink leaf itself and refuses a symlink in the parents.
TEST_F(ModuleWriterTest, LstatNeverFollows)
{
    struct stat st{};
    ASSERT_EQ(w_->lstat("out", st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(w_->lstat("out/secret", st), ELOOP);
    ASSERT_EQ(w_->lstat("", st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_EQ(w_->lstat("/file", st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

// Verifies that open_read opens regular files only, never through or at a symlink, and never
// opens (so never blocks on) a FIFO.
TEST_F(ModuleWriterTest, OpenReadRegularOnly)
{
    Errno err = 0;
    UniqueFd fd = w_->open_read("file", err);
    ASSERT_TRUE(fd);
    std::array<char, 8> buf{};
    EXPECT_EQ(::read(fd.get(), buf.data(), buf.size()), 4);
    EXPECT_EQ(::fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_FALSE(w_->open_read("out/secret", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_FALSE(w_->open_read("outfile", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_FALSE(w_->open_read("dir", err));
    EXPECT_EQ(err, EISDIR);
    ASSERT_EQ(::mkfifo(p("fifo").c_str(), 0644), 0);
    EXPECT_FALSE(w_->open_read("fifo", err));
    EXPECT_EQ(err, EINVAL);
}

// Verifies that every operation aimed through a symlink out of the module fails and leaves the
// sentinel directory exactly as it was.
TEST_F(ModuleWriterTest, EveryOperationThroughOutsideSymlinkFails)
{
    Errno err = 0;
    for (const std::string via : {"out", "abs"}) {
        SCOPED_TRACE(via);
        EXPECT_FALSE(w_->create_temp(via + "/new", "", err));
        EXPECT_EQ(err, ELOOP);
        EXPECT_FALSE(w_->create_temp("file", via, err));
        EXPECT_EQ(err, ELOOP);
        EXPECT_FALSE(w_->open_inplace(via + "/secret", err));
        EXPECT_EQ(err, ELOOP);
        EXPECT_FALSE(w_->open_read(via + "/secret", err));
        EXPECT_EQ(w_->mkdir(via + "/d", 0755), ELOOP);
        EXPECT_EQ(w_->symlink("x", via + "/l"), ELOOP);
        EXPECT_EQ(w_->mknod(via + "/fifo", S_IFIFO | 0644, 0), ELOOP);
        EXPECT_EQ(w_->link("file", via + "/hl"), ELOOP);
        EXPECT_EQ(w_->link(via + "/secret", "stolen"), ELOOP);
        EXPECT_EQ(w_->unlink(via + "/secret"), ELOOP);
        EXPECT_EQ(w_->rmdir(via + "/x"), ELOOP);
        EXPECT_EQ(w_->rename(via + "/secret", "stolen"), ELOOP);
        EXPECT_EQ(w_->rename("file", via + "/planted"), ELOOP);
        EXPECT_LT(w_->make_parent_dirs(via + "/a/b/name", 0777), 0);
        EXPECT_EQ(w_->remove(via + "/secret", true, {}), ELOOP);
        EXPECT_EQ(w_->chmod(via + "/secret", 0777), ELOOP);
        EXPECT_EQ(w_->chown(via + "/secret", 1234, 1234), ELOOP);
        EXPECT_EQ(w_->set_times(via + "/secret", timespec{1, 0}, timespec{1, 0}), ELOOP);
        EXPECT_EQ(w_->set_fake_super_stat(via + "/secret", S_IFREG | 0777, 0, 1, 1), ELOOP);
        struct stat st{};
        EXPECT_EQ(w_->get_fake_super_stat(via + "/secret", st), ELOOP);
        EXPECT_EQ(w_->lstat(via + "/secret", st), ELOOP);
    }
    // Symlinks as the leaf: acted on themselves, or refused; never their target.
    EXPECT_FALSE(w_->open_inplace("outfile", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_EQ(w_->chmod("outfile", 0777), 0);
    EXPECT_EQ(w_->set_times("outfile", timespec{12345, 0}, std::nullopt), 0);
    EXPECT_EQ(w_->set_fake_super_stat("outfile", S_IFREG | 0777, 0, 1, 1), 0);
    EXPECT_EQ(w_->chown("outfile", ::geteuid(), ::getegid()), 0);
    auto tmp = w_->create_temp("file", "", err);
    ASSERT_TRUE(tmp);
    EXPECT_EQ(w_->rename_into_place(*tmp, "out/secret"), ELOOP);
    w_->discard(*tmp);
    EXPECT_EQ(w_->remove("out", true, {}), 0); // the link goes, not what it points to
    EXPECT_FALSE(exists("out"));
    expect_sentinel_untouched();
}

// Verifies the name checks: empty, "." and ".." leaves, ".." anywhere and NUL bytes are refused,
// and a leading slash means the module root.
TEST_F(ModuleWriterTest, NamesAreChecked)
{
    EXPECT_EQ(w_->mkdir("", 0755), EINVAL);
    EXPECT_EQ(w_->mkdir(".", 0755), EINVAL);
    EXPECT_EQ(w_->mkdir("dir/.", 0755), EINVAL);
    EXPECT_EQ(w_->mkdir("dir/", 0755), EINVAL);
    EXPECT_EQ(w_->mkdir("..", 0755), ELOOP);
    EXPECT_EQ(w_->mkdir("dir/../x", 0755), ELOOP);
    EXPECT_EQ(w_->unlink(std::string_view("fi\0le", 5)), EINVAL);
    EXPECT_TRUE(exists("file"));
    EXPECT_EQ(w_->mkdir("/lead", 0755), 0);
    EXPECT_TRUE(exists("lead"));
    EXPECT_EQ(w_->remove("", true, {}), EINVAL);
    expect_sentinel_untouched();
}

// Verifies that a directory replaced by a symlink between two calls makes the second call fail
// instead of acting on the symlink's target.
TEST_F(ModuleWriterTest, DirectorySwappedForSymlinkBetweenCalls)
{
    ASSERT_EQ(w_->mkdir("d", 0755), 0);
    Errno err = 0;
    auto temp = w_->create_temp("d/f", "", err);
    ASSERT_TRUE(temp);
    ASSERT_EQ(::write(temp->fd.get(), "x", 1), 1);
    ASSERT_EQ(::rename(p("d").c_str(), p("moved").c_str()), 0);
    ASSERT_EQ(::symlink("../outside", p("d").c_str()), 0);

    EXPECT_EQ(w_->rename_into_place(*temp, "d/secret"), ELOOP);
    EXPECT_FALSE(w_->create_temp("d/g", "", err));
    EXPECT_FALSE(w_->open_inplace("d/secret", err));
    EXPECT_EQ(w_->unlink("d/secret"), ELOOP);
    EXPECT_EQ(w_->chmod("d/secret", 0777), ELOOP);
    EXPECT_EQ(w_->mkdir("d/sub", 0755), ELOOP);
    EXPECT_LT(w_->make_parent_dirs("d/a/b", 0777), 0);
    EXPECT_EQ(w_->remove("d/secret", false, {}), ELOOP);
    // The temp file's own handle still names the real (moved) directory.
    w_->discard(*temp);
    EXPECT_TRUE(fs::is_empty(p("moved")));
    expect_sentinel_untouched();
}

// Verifies upstream's temp-name rule (receiver.c:get_tmpname) including the NAME_MAX cut, the
// multi-byte trim and the trailing-dot trim.
TEST_F(ModuleWriterTest, TempNameTemplate)
{
    EXPECT_EQ(ModuleWriter::temp_name_template("file.txt", ""), ".file.txt.XXXXXX");
    EXPECT_EQ(ModuleWriter::temp_name_template("a/b/file", ""), ".file.XXXXXX");
    EXPECT_EQ(ModuleWriter::temp_name_template(".hidden", ""), ".hidden.XXXXXX");
    EXPECT_EQ(ModuleWriter::temp_name_template("name.", ""), ".name.XXXXXX");
    EXPECT_EQ(ModuleWriter::temp_name_template("file", "tmp"), "file.XXXXXX");
    EXPECT_EQ(ModuleWriter::temp_name_template("x/.hidden", "tmp"), ".hidden.XXXXXX");

    const std::string longname(300, 'a');
    const auto t1 = ModuleWriter::temp_name_template(longname, "");
    ASSERT_TRUE(t1);
    EXPECT_EQ(*t1, "." + std::string(246, 'a') + ".XXXXXX");
    EXPECT_EQ(t1->size(), 254u);
    const auto t2 = ModuleWriter::temp_name_template(longname, "tmp");
    ASSERT_TRUE(t2);
    EXPECT_EQ(*t2, std::string(246, 'a') + ".XXXXXX");
    // A cut inside "\xc3\xa9" drops the lead byte too.
    const std::string mb = std::string(245, 'a') + "\xc3\xa9" + "tail";
    EXPECT_EQ(ModuleWriter::temp_name_template(mb, ""), "." + std::string(245, 'a') + ".XXXXXX");
    // The cut leaves a trailing dot: trimmed.
    const std::string dot = std::string(245, 'b') + ".cdef";
    EXPECT_EQ(ModuleWriter::temp_name_template(dot, ""), "." + std::string(245, 'b') + ".XXXXXX");
    // Exactly 246 characters fit whole.
    EXPECT_EQ(ModuleWriter::temp_name_template(std::string(246, 'c'), ""), "." + std::string(246, 'c') + ".XXXXXX");
    // MAXPATHLEN: the directory part leaves no room at all.
    EXPECT_FALSE(ModuleWriter::temp_name_template(std::string(4090, 'd') + "/f", ""));
}

// Verifies that create_temp makes a fresh 0600 file named from the template, O_RDWR, in the
// final name's directory, and that the longest name upstream builds is accepted by the kernel.
TEST_F(ModuleWriterTest, CreateTempNamesAndMode)
{
    const mode_t old = ::umask(0077);
    Errno err = 0;
    auto a = w_->create_temp("dir/file.txt", "", err);
    auto b = w_->create_temp("dir/file.txt", "", err);
    ::umask(old);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_NE(a->name, b->name);
    ASSERT_EQ(a->name.size(), std::string(".file.txt.XXXXXX").size());
    EXPECT_EQ(a->name.substr(0, 10), ".file.txt.");
    for (char c : a->name.substr(10))
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << a->name;
    struct stat st{};
    ASSERT_EQ(::lstat(p("dir/" + a->name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(::fcntl(a->fd.get(), F_GETFL) & O_ACCMODE, O_RDWR);
    w_->discard(*a);
    w_->discard(*b);
    EXPECT_TRUE(fs::is_empty(p("dir")));

    auto l = w_->create_temp(std::string(300, 'z'), "", err);
    ASSERT_TRUE(l) << err;
    EXPECT_EQ(l->name.size(), 254u);
    w_->discard(*l);

    auto m = w_->create_temp("file", "", err, 0755);
    ASSERT_TRUE(m);
    ASSERT_EQ(::fstat(m->fd.get(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u); // (0755 | u+w) & 0700
    w_->discard(*m);
}

// Verifies rename_into_place in the same directory replaces the final file atomically and
// marks the temp as consumed, so discard afterwards removes nothing.
TEST_F(ModuleWriterTest, RenameIntoPlaceSameDirectory)
{
    Errno err = 0;
    auto t = w_->create_temp("file", "", err);
    ASSERT_TRUE(t);
    ASSERT_EQ(::write(t->fd.get(), "new data", 8), 8);
    ASSERT_EQ(w_->rename_into_place(*t, "file"), 0);
    EXPECT_TRUE(t->name.empty());
    EXPECT_EQ(read_all(p("file")), "new data");
    w_->discard(*t);
    EXPECT_TRUE(exists("file"));
    EXPECT_EQ(w_->rename_into_place(*t, "file"), EINVAL);
}

// Verifies that a temp file made in --temp-dir lands in the final directory on rename.
TEST_F(ModuleWriterTest, RenameIntoPlaceFromTempDir)
{
    ASSERT_EQ(w_->mkdir("tmp", 0700), 0);
    Errno err = 0;
    auto t = w_->create_temp("dir/f", "tmp", err);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->name.substr(0, 2), "f.");
    EXPECT_TRUE(exists("tmp/" + t->name));
    ASSERT_EQ(::write(t->fd.get(), "abc", 3), 3);
    bool copied = true;
    ASSERT_EQ(w_->rename_into_place(*t, "dir/f", copied), 0);
    EXPECT_FALSE(copied);
    EXPECT_EQ(read_all(p("dir/f")), "abc");
    EXPECT_TRUE(fs::is_empty(p("tmp")));
}

// Verifies the cross-filesystem fallback through its seam: data, mode, times and the fake-super
// xattr are copied into place, the old temp file is removed and the fd now names the final file.
TEST_F(ModuleWriterTest, CopyIntoPlaceCopiesEverything)
{
    ASSERT_EQ(w_->mkdir("tmp", 0700), 0);
    Errno err = 0;
    auto t = w_->create_temp("dir/f", "tmp", err);
    ASSERT_TRUE(t);
    std::string data(700000, 'q');
    data[12345] = 'Z';
    ASSERT_EQ(::write(t->fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ASSERT_EQ(ModuleWriter::fchmod(t->fd.get(), 0640), 0);
    const std::string xv = ModuleWriter::fake_super_value(S_IFREG | 0644, 0, 7, 8);
    ASSERT_EQ(::fsetxattr(t->fd.get(), ModuleWriter::fake_super_xattr_name, xv.data(), xv.size(), 0), 0);
    ASSERT_EQ(ModuleWriter::set_times(t->fd.get(), timespec{1000000000, 5}, timespec{1000000001, 6}), 0);
    const std::string old_name = t->name;

    ASSERT_EQ(w_->copy_into_place(*t, "dir/f"), 0);
    EXPECT_TRUE(t->name.empty());
    EXPECT_FALSE(exists("tmp/" + old_name));
    EXPECT_EQ(read_all(p("dir/f")), data);
    struct stat st{};
    ASSERT_EQ(::lstat(p("dir/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 5);
    struct stat fst{};
    ASSERT_EQ(::fstat(t->fd.get(), &fst), 0);
    EXPECT_EQ(fst.st_ino, st.st_ino);
    struct stat over{};
    ASSERT_EQ(w_->get_fake_super_stat("dir/f", over), 0);
    EXPECT_EQ(over.st_uid, 7u);
    EXPECT_EQ(std::distance(fs::directory_iterator(p("dir")), fs::directory_iterator()), 1);
}

// Verifies a real EXDEV (temp dir on a tmpfs mounted in a private mount namespace): the plain
// rename reports EXDEV and keeps the temp; the copying form puts the file in place.
TEST_F(ModuleWriterTest, RenameIntoPlaceAcrossFilesystems)
{
    ASSERT_EQ(::mkdir(p("tmp").c_str(), 0700), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const uid_t uid = ::geteuid();
        const gid_t gid = ::getegid();
        bool ns = ::unshare(CLONE_NEWNS) == 0;
        if (!ns && ::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
            // Without both maps the new files' owner is unmappable and creation fails.
            std::ofstream("/proc/self/setgroups") << "deny";
            std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
            std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
            ns = true;
        }
        if (!ns || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", p("tmp").c_str(), "tmpfs", 0, "mode=0700") != 0)
            ::_exit(77);
        // A descriptor opened before unshare() still walks the old namespace's mounts.
        UniqueFd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ModuleWriter w(root.get());
        Errno err = 0;
        auto t = w.create_temp("dir/f", "tmp", err);
        if (!t)
            ::_exit(10);
        if (::write(t->fd.get(), "cross", 5) != 5)
            ::_exit(11);
        if (const Errno r = w.rename_into_place(*t, "dir/f"); r != EXDEV || t->name.empty()) {
            std::fprintf(stderr, "rename_into_place: %s\n", std::strerror(r));
            ::_exit(12);
        }
        bool copied = false;
        if (w.rename_into_place(*t, "dir/f", copied) != 0 || !copied)
            ::_exit(13);
        if (read_all(p("dir/f")) != "cross" || !fs::is_empty(p("tmp")))
            ::_exit(14);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        // Only possible without root and without user namespaces; the seam test above covers
        // the copy itself then.
        ASSERT_NE(::geteuid(), 0u) << "root could not mount a tmpfs";
        GTEST_SKIP() << "no mount namespace available to this user";
    }
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Verifies open_inplace: creates 0600, keeps existing content, refuses symlinks, directories and
// FIFOs without blocking.
TEST_F(ModuleWriterTest, OpenInplace)
{
    const mode_t old = ::umask(022);
    Errno err = 0;
    UniqueFd fd = w_->open_inplace("dir/new", err);
    ::umask(old);
    ASSERT_TRUE(fd);
    struct stat st{};
    ASSERT_EQ(::fstat(fd.get(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(::fcntl(fd.get(), F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_WRONLY);
    UniqueFd ex = w_->open_inplace("file", err);
    ASSERT_TRUE(ex);
    EXPECT_EQ(read_all(p("file")), "file");
    EXPECT_FALSE(w_->open_inplace("inlink", err));
    EXPECT_EQ(err, ELOOP);
    EXPECT_FALSE(w_->open_inplace("dir", err));
    EXPECT_EQ(err, EISDIR);
    ASSERT_EQ(::mkfifo(p("fifo").c_str(), 0644), 0);
    EXPECT_FALSE(w_->open_inplace("fifo", err));
    EXPECT_EQ(err, EINVAL);
}

// Verifies mkdir, symlink (target stored verbatim), mknod and hard links of symlinks.
TEST_F(ModuleWriterTest, CreateEntries)
{
    EXPECT_EQ(w_->mkdir("dir/sub", 0755), 0);
    EXPECT_EQ(w_->mkdir("dir/sub", 0755), EEXIST);
    EXPECT_EQ(w_->symlink("../../../etc/passwd", "dir/sl"), 0);
    std::array<char, 64> buf{};
    ASSERT_EQ(::readlink(p("dir/sl").c_str(), buf.data(), buf.size()), 19);
    EXPECT_STREQ(buf.data(), "../../../etc/passwd");
    EXPECT_EQ(w_->symlink("", "dir/empty"), EINVAL);
    EXPECT_EQ(w_->mknod("dir/fifo", S_IFIFO | 0644, 0), 0);
    struct stat st{};
    ASSERT_EQ(::lstat(p("dir/fifo").c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(w_->mknod("dir/sock", S_IFSOCK | 0644, 0), 0);
    const Errno dev = w_->mknod("dir/null", S_IFCHR | 0644, makedev(1, 3));
    if (::geteuid() == 0)
        EXPECT_EQ(dev, 0);
    else
        EXPECT_EQ(dev, EPERM);
    EXPECT_EQ(w_->link("outfile", "dir/hl"), 0);
    struct stat a{};
    struct stat b{};
    ASSERT_EQ(::lstat(p("outfile").c_str(), &a), 0);
    ASSERT_EQ(::lstat(p("dir/hl").c_str(), &b), 0);
    EXPECT_TRUE(S_ISLNK(b.st_mode));
    EXPECT_EQ(a.st_ino, b.st_ino);
    expect_sentinel_untouched();
}

// Verifies unlink (a symlink itself), rmdir and rename of module entries.
TEST_F(ModuleWriterTest, UnlinkRmdirRename)
{
    EXPECT_EQ(w_->unlink("outfile"), 0);
    EXPECT_FALSE(exists("outfile"));
    EXPECT_EQ(w_->unlink("dir"), EISDIR);
    std::ofstream(p("dir/x")) << "x";
    EXPECT_EQ(w_->rmdir("dir"), ENOTEMPTY);
    EXPECT_EQ(w_->rename("dir/x", "file~"), 0);
    EXPECT_EQ(read_all(p("file~")), "x");
    EXPECT_EQ(w_->rmdir("dir"), 0);
    EXPECT_EQ(w_->unlink("missing"), ENOENT);
    expect_sentinel_untouched();
}

// Verifies make_parent_dirs creates only the missing directories (umask applied), ignores the
// last component and refuses to walk through files and symlinks.
TEST_F(ModuleWriterTest, MakeParentDirs)
{
    const mode_t old = ::umask(022);
    EXPECT_EQ(w_->make_parent_dirs("a/b/c/name", 0777), 3);
    ::umask(old);
    struct stat st{};
    ASSERT_EQ(::lstat(p("a/b/c").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0755u);
    EXPECT_FALSE(exists("a/b/c/name"));
    EXPECT_EQ(w_->make_parent_dirs("a/b/c/name", 0777), 0);
    EXPECT_EQ(w_->make_parent_dirs("./a/b/x/y", 0777), 1);
    EXPECT_TRUE(exists("a/b/x"));
    EXPECT_EQ(w_->make_parent_dirs("name", 0777), 0);
    EXPECT_EQ(w_->make_parent_dirs("file/sub/name", 0777), -ENOTDIR);
    EXPECT_LT(w_->make_parent_dirs("inlink/new/name", 0777), 0);
    EXPECT_FALSE(exists("dir/new"));
    EXPECT_EQ(w_->make_parent_dirs("a/../x/name", 0777), -ELOOP);
    expect_sentinel_untouched();
}

// Builds root/d with files, a subdirectory and links pointing out of the module.
void make_tree(const std::string& d)
{
    ::mkdir(d.c_str(), 0755);
    std::ofstream(d + "/f1") << "1";
    std::ofstream(d + "/f2") << "2";
    ::mkdir((d + "/sub").c_str(), 0755);
    std::ofstream(d + "/sub/g") << "g";
    ::mkdir((d + "/sub.x").c_str(), 0755);
    ASSERT_EQ(::symlink("../../outside", (d + "/link").c_str()), 0);
    ASSERT_EQ(::symlink("../../outside/secret", (d + "/sub/flink").c_str()), 0);
}

// Verifies recursive removal: symlinks inside are unlinked, not entered; children are reported
// before their directory in upstream's reverse file-list order.
TEST_F(ModuleWriterTest, RemoveRecursive)
{
    make_tree(p("d"));
    std::vector<std::string> seen;
    const Errno e = w_->remove("d", true, [&](std::string_view rel, bool is_dir) {
        seen.push_back(std::string(rel) + (is_dir ? "/" : ""));
        return true;
    });
    EXPECT_EQ(e, 0);
    EXPECT_FALSE(exists("d"));
    // Sorted list: files f1 f2 link, then dirs "sub.x/" < "sub/"; walked from the end.
    const std::vector<std::string> want = {"d/sub/g", "d/sub/flink", "d/sub/", "d/sub.x/", "d/link", "d/f2", "d/f1", "d/"};
    EXPECT_EQ(seen, want);
    expect_sentinel_untouched();
}

// Verifies that the callback can stop a removal (--max-delete) and nothing more is deleted.
TEST_F(ModuleWriterTest, RemoveStopsWhenCallbackSaysSo)
{
    ::mkdir(p("d").c_str(), 0755);
    for (int i = 0; i < 6; ++i)
        std::ofstream(p("d/f" + std::to_string(i))) << i;
    int count = 0;
    const Errno e = w_->remove("d", true, [&](std::string_view, bool) { return ++count < 2; });
    EXPECT_EQ(e, ECANCELED);
    EXPECT_EQ(count, 2);
    EXPECT_EQ(std::distance(fs::directory_iterator(p("d")), fs::directory_iterator()), 4);
}

// Verifies non-recursive removal of directories and removal of plain entries.
TEST_F(ModuleWriterTest, RemoveNonRecursive)
{
    ::mkdir(p("d").c_str(), 0755);
    std::ofstream(p("d/f")) << "f";
    EXPECT_EQ(w_->remove("d", false, {}), ENOTEMPTY);
    std::vector<std::string> seen;
    auto rec = [&](std::string_view rel, bool is_dir) {
        seen.push_back(std::string(rel) + (is_dir ? "/" : ""));
        return true;
    };
    EXPECT_EQ(w_->remove("d/f", false, rec), 0);
    EXPECT_EQ(w_->remove("d", false, rec), 0);
    EXPECT_EQ(w_->remove("d", false, rec), ENOENT);
    EXPECT_EQ(seen, (std::vector<std::string>{"d/f", "d/"}));
}

// Verifies that kept entries survive and leave their directories in place with ENOTEMPTY.
TEST_F(ModuleWriterTest, RemoveKeepsProtectedEntries)
{
    make_tree(p("d"));
    const Errno e = w_->remove(
        "d", true, {}, [](std::string_view rel, bool) { return rel == "d/sub/g"; });
    EXPECT_EQ(e, ENOTEMPTY);
    EXPECT_TRUE(exists("d/sub/g"));
    EXPECT_FALSE(exists("d/sub/flink"));
    EXPECT_FALSE(exists("d/f1"));
    EXPECT_FALSE(exists("d/sub.x"));
    expect_sentinel_untouched();
}

// Verifies that a non-root owner can remove a tree holding a directory without its write bit
// (delete.c gives it u+w first); as root the bit is not needed and not added.
TEST_F(ModuleWriterTest, RemoveReadOnlyDirectory)
{
    ::mkdir(p("d").c_str(), 0755);
    ::mkdir(p("d/ro").c_str(), 0755);
    std::ofstream(p("d/ro/f")) << "f";
    ASSERT_EQ(::chmod(p("d/ro").c_str(), 0555), 0);
    EXPECT_EQ(w_->remove("d", true, {}), 0);
    EXPECT_FALSE(exists("d"));
}

// Verifies chmod on files, directories, FIFOs, unreadable files and the root, and that a
// symlink is a no-op that leaves its target alone.
TEST_F(ModuleWriterTest, Chmod)
{
    struct stat st{};
    EXPECT_EQ(w_->chmod("file", 0640), 0);
    ASSERT_EQ(::lstat(p("file").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(w_->chmod("dir", 0711), 0);
    ASSERT_EQ(::lstat(p("dir").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0711u);
    ASSERT_EQ(::mkfifo(p("fifo").c_str(), 0644), 0);
    EXPECT_EQ(w_->chmod("fifo", 0600), 0);
    ASSERT_EQ(::lstat(p("fifo").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(::chmod(p("file").c_str(), 0), 0);
    EXPECT_EQ(w_->chmod("file", 0604), 0); // unreadable to a non-root owner: the fallback path
    ASSERT_EQ(::lstat(p("file").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0604u);
    ASSERT_EQ(::mknod(p("sock").c_str(), S_IFSOCK | 0644, 0), 0);
    EXPECT_EQ(w_->chmod("sock", 0600), 0);
    EXPECT_EQ(w_->chmod("outfile", 0777), 0);
    EXPECT_EQ(w_->chmod("inlink", 0700), 0);
    ASSERT_EQ(::lstat(p("dir").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0711u);
    EXPECT_EQ(w_->chmod("", 0751), 0);
    ASSERT_EQ(::lstat(root_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0751u);
    EXPECT_EQ(w_->chmod("missing", 0600), ENOENT);
    expect_sentinel_untouched();
}

// Verifies chown of files and of a symlink itself; as non-root, giving a file away is refused.
TEST_F(ModuleWriterTest, Chown)
{
    struct stat st{};
    if (::geteuid() == 0) {
        EXPECT_EQ(w_->chown("file", 1234, 5678), 0);
        ASSERT_EQ(::lstat(p("file").c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 1234u);
        EXPECT_EQ(st.st_gid, 5678u);
        EXPECT_EQ(w_->chown("file", static_cast<uid_t>(-1), 42), 0);
        ASSERT_EQ(::lstat(p("file").c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 1234u);
        EXPECT_EQ(st.st_gid, 42u);
        EXPECT_EQ(w_->chown("outfile", 4321, 4321), 0);
        ASSERT_EQ(::lstat(p("outfile").c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 4321u);
        EXPECT_EQ(w_->chown("dir", 99, 99), 0);
        ASSERT_EQ(::lstat(p("dir").c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 99u);
    } else {
        EXPECT_EQ(w_->chown("file", ::geteuid(), ::getegid()), 0);
        EXPECT_EQ(w_->chown("file", 0, 0), EPERM);
        EXPECT_EQ(w_->chown("outfile", 0, 0), EPERM);
    }
    expect_sentinel_untouched();
}

// Verifies set_times on files, directories and a symlink's own times, with atime left alone
// when not given, and the fd form.
TEST_F(ModuleWriterTest, SetTimes)
{
    struct stat before{};
    ASSERT_EQ(::lstat(p("file").c_str(), &before), 0);
    EXPECT_EQ(w_->set_times("file", timespec{1500000000, 123}, std::nullopt), 0);
    struct stat st{};
    ASSERT_EQ(::lstat(p("file").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 123);
    EXPECT_TRUE(timespec_eq(st.st_atim, before.st_atim));
    EXPECT_EQ(w_->set_times("dir", timespec{1400000000, 0}, timespec{1300000000, 0}), 0);
    ASSERT_EQ(::lstat(p("dir").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1400000000);
    EXPECT_EQ(st.st_atim.tv_sec, 1300000000);
    EXPECT_EQ(w_->set_times("outfile", timespec{1200000000, 0}, std::nullopt), 0);
    ASSERT_EQ(::lstat(p("outfile").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
    EXPECT_EQ(w_->set_times("", timespec{1100000000, 0}, std::nullopt), 0);
    ASSERT_EQ(::lstat(root_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1100000000);
    UniqueFd fd(::open(p("file").c_str(), O_RDONLY));
    EXPECT_EQ(ModuleWriter::set_times(fd.get(), timespec{1000000000, 0}, std::nullopt), 0);
    ASSERT_EQ(::lstat(p("file").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
    EXPECT_EQ(ModuleWriter::fchmod(fd.get(), 0621), 0);
    ASSERT_EQ(::lstat(p("file").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0621u);
    EXPECT_EQ(ModuleWriter::fchown(fd.get(), ::geteuid(), ::getegid()), 0);
    EXPECT_EQ(ModuleWriter::set_times(-1, timespec{1, 0}, std::nullopt), EBADF);
    expect_sentinel_untouched();
}

// Verifies the fake-super xattr: upstream's name and "%o %u,%u %u:%u" value, the overlay on
// read, symlinks and FIFOs never overlaid, and corrupt values refused.
TEST_F(ModuleWriterTest, FakeSuperXattr)
{
    EXPECT_EQ(ModuleWriter::fake_super_value(S_IFREG | 04755, 0, 1000, 100), "104755 0,0 1000:100");
    EXPECT_EQ(ModuleWriter::fake_super_value(S_IFCHR | 0660, makedev(8, 17), 0, 6), "20660 8,17 0:6");
    EXPECT_STREQ(ModuleWriter::fake_super_xattr_name, "user.rsync.%stat");

    ASSERT_EQ(w_->set_fake_super_stat("file", S_IFCHR | 0660, makedev(8, 17), 0, 6), 0);
    std::array<char, 64> raw{};
    const ssize_t n = ::lgetxattr(p("file").c_str(), "user.rsync.%stat", raw.data(), raw.size());
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(raw.data(), static_cast<std::size_t>(n)), "20660 8,17 0:6");
    struct stat st{};
    ASSERT_EQ(w_->get_fake_super_stat("file", st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    EXPECT_EQ(major(st.st_rdev), 8u);
    EXPECT_EQ(minor(st.st_rdev), 17u);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, 6u);
    EXPECT_EQ(st.st_size, 4);

    ASSERT_EQ(w_->set_fake_super_stat("dir", S_IFDIR | 0700, 0, 5, 5), 0);
    ASSERT_EQ(w_->get_fake_super_stat("dir", st), 0);
    EXPECT_EQ(st.st_uid, 5u);
    EXPECT_EQ(w_->remove_fake_super_stat("dir"), 0);
    EXPECT_EQ(w_->remove_fake_super_stat("dir"), ENODATA);
    EXPECT_EQ(w_->get_fake_super_stat("dir", st), ENODATA);
    EXPECT_TRUE(S_ISDIR(st.st_mode));

    EXPECT_EQ(w_->set_fake_super_stat("inlink", S_IFLNK | 0777, 0, 5, 5), 0);
    EXPECT_EQ(w_->get_fake_super_stat("inlink", st), ENODATA);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(::mkfifo(p("fifo").c_str(), 0644), 0);
    EXPECT_EQ(w_->set_fake_super_stat("fifo", S_IFIFO | 0644, 0, 5, 5), EPERM);
    EXPECT_EQ(w_->get_fake_super_stat("fifo", st), ENODATA);

    ASSERT_EQ(::lsetxattr(p("file").c_str(), "user.rsync.%stat", "junk", 4, 0), 0);
    EXPECT_EQ(w_->get_fake_super_stat("file", st), EINVAL);
    struct stat parsed{};
    EXPECT_TRUE(ModuleWriter::parse_fake_super_value("100644 0,0 1:2", parsed));
    EXPECT_EQ(parsed.st_mode, static_cast<mode_t>(S_IFREG | 0644));
    EXPECT_FALSE(ModuleWriter::parse_fake_super_value("100644 0,0 1", parsed));
    expect_sentinel_untouched();
}

// Verifies that while another thread keeps swapping a directory and a symlink to outside the
// module, nothing the writer does reaches the sentinel.
TEST_F(ModuleWriterTest, StressSwappingDirectoryAndSymlink)
{
    ASSERT_EQ(::mkdir(p("sw").c_str(), 0755), 0);
    ASSERT_EQ(::symlink("../outside", p("sw_other").c_str()), 0);
    std::atomic<bool> stop{false};
    std::atomic<long> swaps{0};
    std::thread swapper([&] {
        const std::string a = p("sw");
        const std::string b = p("sw_other");
        while (!stop.load()) {
            if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0)
                swaps.fetch_add(1);
        }
    });
    long ok = 0;
    long refused = 0;
    auto count = [&](Errno e) {
        if (e == 0)
            ++ok;
        else if (e == ELOOP)
            ++refused;
    };
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    int i = 0;
    while (std::chrono::steady_clock::now() < end) {
        const std::string n = "sw/f" + std::to_string(i++ % 7);
        Errno err = 0;
        if (auto t = w_->create_temp(n, "", err)) {
            (void)!::write(t->fd.get(), "x", 1);
            count(w_->rename_into_place(*t, n));
            w_->discard(*t);
        } else {
            count(err);
        }
        if (UniqueFd fd = w_->open_inplace("sw/secret", err); fd)
            count(0);
        else
            count(err);
        count(w_->chmod("sw/secret", 0777));
        count(w_->set_times("sw/secret", timespec{1, 0}, std::nullopt));
        count(w_->chown("sw/secret", 4242, 4242));
        count(w_->mkdir("sw/d", 0755));
        count(w_->symlink("t", "sw/d/l"));
        count(w_->remove("sw/d", true, {}));
        count(w_->unlink("sw/secret"));
        count(w_->rename("sw/secret", "stolen"));
        count(w_->make_parent_dirs("sw/p/q/name", 0777) >= 0 ? 0 : ELOOP);
        count(w_->remove("sw/p", true, {}));
        count(w_->unlink(n));
        count(w_->set_fake_super_stat("sw/secret", S_IFREG | 0777, 0, 1, 1));
    }
    stop = true;
    swapper.join();
    EXPECT_GT(swaps.load(), 0);
    EXPECT_GT(ok, 0);
    EXPECT_GT(refused, 0);
    // Renaming an in-module "sw/secret" away is fine; it must never be the sentinel's file.
    if (exists("stolen")) {
        EXPECT_NE(read_all(p("stolen")), "secret");
    }
    expect_sentinel_untouched();
}

// Verifies that stat_beneath follows symlinks that stay in the module (to a directory, to a
// file) and refuses, with ELOOP, those that leave it; nothing outside is touched.
TEST_F(ModuleWriterTest, StatBeneathFollowsOnlyInsideLinks)
{
    ASSERT_EQ(::symlink("file", (root_ + "/filelink").c_str()), 0);
    struct stat st{};
    ASSERT_EQ(w_->stat_beneath("inlink", st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_EQ(w_->stat_beneath("filelink", st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    ASSERT_EQ(w_->stat_beneath("", st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(w_->stat_beneath("out", st), ELOOP);
    EXPECT_EQ(w_->stat_beneath("abs", st), ELOOP);
    EXPECT_EQ(w_->stat_beneath("outfile", st), ELOOP);
    EXPECT_EQ(w_->stat_beneath("file/x", st), ENOTDIR);
    EXPECT_EQ(w_->stat_beneath("missing", st), ENOENT);
    EXPECT_NE(w_->stat_beneath("../outside", st), 0);
    expect_sentinel_untouched();
}

} // namespace
} // namespace ocr::transfer
