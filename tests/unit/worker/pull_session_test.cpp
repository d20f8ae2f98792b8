// SPDX-License-Identifier: MIT
// pull_error_site: the "at FILE(LINE)" a pull's fatal errors report when the code that
// raised them named no upstream site; configure_sender_fs: how the sender reads the module.
#include "worker/pull_session.hpp"

#include "protocol/exit_code.hpp"

#include "support/temp_dir.hpp"
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ocr::worker {
namespace {

using protocol::ExitCode;

std::string where(ExitCode code, std::string_view message)
{
    const daemon::UpstreamSite s = pull_error_site(protocol::to_int(code), message);
    return std::string(s.file) + "(" + std::to_string(s.line) + ")";
}

// Verifies the sites of io.c:read_sum_head's checks and read_ndx's overflow check, told
// apart by their texts (all are RERR_PROTOCOL).
TEST(PullErrorSite, ProtocolErrorsByText)
{
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid checksum count -1 [sender]"), "io.c(2202)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid block length 999999999 [sender]"), "io.c(2223)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid zero block length [sender]"), "io.c(2228)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid checksum length 99 [sender]"), "io.c(2244)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid remainder length 5 [sender]"), "io.c(2250)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid file index: 2147483648 [sender]"), "io.c(2585)");
    // Not the daemon-argument reader's "too many daemon arguments" site.
    EXPECT_NE(where(ExitCode::Protocol, "something else"), "io.c(1479)");
}

// Verifies the log formatter's two texts and the per-code fallbacks.
TEST(PullErrorSite, OtherCodes)
{
    EXPECT_EQ(where(ExitCode::MessageIo, "log-format string is WAY too long!"), "log.c(553)");
    EXPECT_EQ(where(ExitCode::MessageIo, "buffer overflow expanding %f -- exiting"), "log.c(807)");
    EXPECT_EQ(where(ExitCode::FileIo, ""), "sender.c(733)");
    EXPECT_EQ(where(ExitCode::Syntax, "found \"..\" dir in relative path: a/../b"), "flist.c(2665)");
    // A text of one code does not pick the site of another.
    EXPECT_EQ(where(ExitCode::FileIo, "Invalid checksum count -1 [sender]"), "sender.c(733)");
}

// A module directory with one file whose fake-super record says mode 0600, owner 1234:4321.
class FakeSuperModule : public ::testing::Test {
protected:
    void SetUp() override
    {
        root_ = tmp_.path();
        std::ofstream(root_ + "/f") << "hello\n";
        ::chmod((root_ + "/f").c_str(), 0644);
        static constexpr char kRecord[] = "100600 0,0 1234:4321";
        ASSERT_EQ(::setxattr((root_ + "/f").c_str(), "user.rsync.%stat", kRecord, sizeof kRecord - 1, 0), 0)
            << "user xattrs are needed on /tmp";
    }

    // The sender's view of "f" after configure_sender_fs with @p am_root.
    struct stat sender_stat(int am_root) const
    {
        transfer::ModuleFs fs(UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
        daemon::ServerOptions options;
        options.am_root = am_root;
        configure_sender_fs(fs, options);
        struct stat st{};
        EXPECT_EQ(::fstatat(fs.root_fd(), "f", &st, AT_SYMLINK_NOFOLLOW), 0);
        (void)fs.lay_over_record("f", st, false);
        return st;
    }

    test::TempDir tmp_{"ocr-pull-fake-super"};
    std::string root_;
};

// Verifies that a pull from a "fake super" module (am_root -1) sends the stored record's
// mode and owners, as upstream's x_lstat does, instead of the file's real ones.
TEST_F(FakeSuperModule, RecordLaidOverForFakeSuper)
{
    const struct stat st = sender_stat(-1);
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0600));
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 4321u);
}

// Verifies that without "fake super" (a client's --super or --no-super) the real stat goes out.
TEST_F(FakeSuperModule, RealStatOtherwise)
{
    for (const int am_root : {0, 1, 2}) {
        const struct stat st = sender_stat(am_root);
        EXPECT_EQ(st.st_mode, static_cast<mode_t>(S_IFREG | 0644)) << am_root;
        EXPECT_NE(st.st_uid, 1234u) << am_root;
    }
}

} // namespace
} // namespace ocr::worker
