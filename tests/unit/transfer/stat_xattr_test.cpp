// SPDX-License-Identifier: MIT
// Tests of the user.rsync.%stat record: its text, the sscanf-compatible parser and the
// decisions upstream's set_stat_xattr makes.
#include "transfer/stat_xattr.hpp"

#include "protocol/protocol_error.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

// What glibc's sscanf makes of the value, as upstream's get_stat_xattr calls it.
std::optional<StatXattr> by_sscanf(const std::string& value)
{
    const std::string c(value.c_str()); // stops at the first NUL, as the C string does
    unsigned mode = 0;
    int maj = 0;
    int min = 0;
    int uid = 0;
    int gid = 0;
    if (std::sscanf(c.c_str(), "%o %d,%d %d:%d", &mode, &maj, &min, &uid, &gid) != 5)
        return std::nullopt;
    return StatXattr{mode, static_cast<std::uint32_t>(maj), static_cast<std::uint32_t>(min),
                     static_cast<std::uint32_t>(uid), static_cast<std::uint32_t>(gid)};
}

struct stat real_stat(mode_t mode, uid_t uid, gid_t gid, dev_t rdev = 0)
{
    struct stat st{};
    st.st_mode = mode;
    st.st_uid = uid;
    st.st_gid = gid;
    st.st_rdev = rdev;
    return st;
}

// Verifies that records are written in upstream's "%o %u,%u %u:%u" form, as the experiment
// with rsync 3.5.0's daemon showed (e.g. a setuid file, a FIFO, a char device, a directory).
TEST(StatXattrTest, FormatsLikeUpstream)
{
    EXPECT_EQ(format_stat_xattr({0104755, 0, 0, 1234, 5678}), "104755 0,0 1234:5678");
    EXPECT_EQ(format_stat_xattr({010640, 0, 0, 5, 6}), "10640 0,0 5:6");
    EXPECT_EQ(format_stat_xattr({020620, 1, 3, 11, 12}), "20620 1,3 11:12");
    EXPECT_EQ(format_stat_xattr({042750, 0, 0, 42, 43}), "42750 0,0 42:43");
    EXPECT_EQ(format_stat_xattr({0120777, 0, 0, 4294967295u, 0}), "120777 0,0 4294967295:0");
}

// Verifies that a formatted record parses back to the same fields.
TEST(StatXattrTest, RoundTrips)
{
    const StatXattr recs[] = {{0100644, 0, 0, 0, 0}, {060644, 8, 1, 0, 0}, {0140755, 0, 0, 65534, 65534},
                              {020600, 4095, 1048575, 7, 8}};
    for (const StatXattr& r : recs) {
        const auto back = parse_stat_xattr(format_stat_xattr(r));
        ASSERT_TRUE(back.has_value()) << format_stat_xattr(r);
        EXPECT_EQ(*back, r);
    }
}

// Verifies that the parser accepts and rejects exactly what glibc's sscanf does with
// upstream's format, including signs, blanks, junk after the fifth number, overflow and NULs.
TEST(StatXattrTest, MatchesSscanf)
{
    const std::vector<std::string> inputs = {
        "100644 0,0 0:0",
        "  100644 0,0 0:0",
        "\t100644\n 0, 0 \v0:\f0 trailing junk",
        "100644 0 ,0 0:0",         // blank before ',' is not skipped
        "100644 0,0 0 :0",         // nor before ':'
        "100644 0,0 0:",           // missing gid
        "100644",                  // too short
        "",                        // empty
        "x100644 0,0 0:0",         // junk first
        "100649 0,0 0:0",          // '9' ends the octal number, then ' ' is missing
        "1006449 0,0 0:0",
        "-1 0,0 0:0",              // negative octal wraps
        "+644 +1,-1 -5:+7",
        "- 644 0,0 0:0",           // sign without digits
        "777777777777777777777777 0,0 0:0",       // octal overflow
        "644 99999999999999999999,0 0:0",         // decimal overflow
        "644 0,-99999999999999999999 0:0",        // negative overflow
        "644 0,0 2147483648:4294967296",          // fits a long, not an int
        "644 0,0 -2147483649:0",
        std::string("644 0,0 1:2\0garbage", 20),  // NUL after a full record
        std::string("644 0,0\0 1:2", 12),         // NUL inside the record
        "0 0,0 0:0",
        "0644 00,00 00:00",
        "644 0,0 1:2:3",
        "644 0x10,0 0:0",
    };
    for (const std::string& in : inputs) {
        const auto expected = by_sscanf(in);
        const auto got = parse_stat_xattr(in);
        ASSERT_EQ(got.has_value(), expected.has_value()) << "input: " << in;
        if (expected) {
            EXPECT_EQ(*got, *expected) << "input: " << in;
        }
    }
}

// Verifies that only the first 255 bytes are looked at (upstream reads no more).
TEST(StatXattrTest, LooksAtMost255Bytes)
{
    std::string longer = "644 0,0 1:" + std::string(300, '9');
    const auto rec = parse_stat_xattr(longer);
    ASSERT_TRUE(rec.has_value());
    // strtol saturates, and the cut to int keeps the low 32 bits of LONG_MAX.
    EXPECT_EQ(rec->gid, 0xFFFFFFFFu);
    EXPECT_EQ(stat_xattr_shown(longer).size(), kStatXattrMaxLen);
    EXPECT_EQ(stat_xattr_shown(std::string("ab\0cd", 5)), "ab");
}

// Verifies that real devices, FIFOs and sockets never get a record looked up, while regular
// files, directories and symlinks would be.
TEST(StatXattrTest, AppliesLikeGetStatXattr)
{
    EXPECT_TRUE(stat_xattr_applies(S_IFREG | 0644));
    EXPECT_TRUE(stat_xattr_applies(S_IFDIR | 0755));
    EXPECT_TRUE(stat_xattr_applies(S_IFLNK | 0777));
    EXPECT_FALSE(stat_xattr_applies(S_IFCHR | 0600));
    EXPECT_FALSE(stat_xattr_applies(S_IFBLK | 0600));
    EXPECT_FALSE(stat_xattr_applies(S_IFIFO | 0600));
    EXPECT_FALSE(stat_xattr_applies(S_IFSOCK | 0600));
}

// Verifies that a record replaces mode, device numbers and owners and nothing else.
TEST(StatXattrTest, OverlayReplacesPrivilegedFields)
{
    struct stat st = real_stat(S_IFREG | 0600, 65534, 65534);
    st.st_size = 17;
    st.st_mtim.tv_sec = 123;
    overlay_stat_xattr(st, {020620, 1, 3, 11, 12});
    EXPECT_EQ(st.st_mode, static_cast<mode_t>(020620));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    EXPECT_EQ(st.st_uid, 11u);
    EXPECT_EQ(st.st_gid, 12u);
    EXPECT_EQ(st.st_size, 17);
    EXPECT_EQ(st.st_mtim.tv_sec, 123);
}

// Verifies set_stat_xattr's decision for a setuid file owned by someone else: the real file
// loses the setuid bit and the record says what it should be.
TEST(StatXattrTest, PlanWritesSetuidAndOwner)
{
    const auto plan = plan_stat_xattr(real_stat(S_IFREG | 0600, 0, 0), std::nullopt, S_IFREG | 04755, 0, 1234, 5678);
    ASSERT_TRUE(plan.chmod_to.has_value());
    EXPECT_EQ(*plan.chmod_to, static_cast<mode_t>(S_IFREG | 0755));
    EXPECT_EQ(plan.action, StatXattrPlan::Action::Write);
    EXPECT_EQ(plan.value, "104755 0,0 1234:5678");
}

// Verifies that an entry whose real attributes already say everything gets no record, and
// loses one it had (upstream removes it).
TEST(StatXattrTest, PlanRemovesWhenRealStatSuffices)
{
    const struct stat real = real_stat(S_IFREG | 0644, 0, 0);
    auto plan = plan_stat_xattr(real, std::nullopt, S_IFREG | 0644, 0, 0, 0);
    EXPECT_FALSE(plan.chmod_to.has_value());
    EXPECT_EQ(plan.action, StatXattrPlan::Action::Keep);
    plan = plan_stat_xattr(real, StatXattr{0100600, 0, 0, 9, 9}, S_IFREG | 0644, 0, 0, 0);
    EXPECT_EQ(plan.action, StatXattrPlan::Action::Remove);
}

// Verifies that a read-only mode still needs a record (the real file keeps owner rw), and a
// directory's real mode keeps owner rwx.
TEST(StatXattrTest, PlanKeepsRealEntryUsable)
{
    auto plan = plan_stat_xattr(real_stat(S_IFREG | 0600, 0, 0), std::nullopt, S_IFREG | 0400, 0, 0, 0);
    EXPECT_FALSE(plan.chmod_to.has_value());
    EXPECT_EQ(plan.value, "100400 0,0 0:0");
    plan = plan_stat_xattr(real_stat(S_IFDIR | 0700, 0, 0), std::nullopt, S_IFDIR | 0, 0, 0, 0);
    EXPECT_FALSE(plan.chmod_to.has_value());
    EXPECT_EQ(plan.value, "40000 0,0 0:0");
    plan = plan_stat_xattr(real_stat(S_IFDIR | 0755, 0, 0), std::nullopt, S_IFDIR | 02750, 0, 42, 43);
    ASSERT_TRUE(plan.chmod_to.has_value());
    EXPECT_EQ(*plan.chmod_to, static_cast<mode_t>(S_IFDIR | 0750));
    EXPECT_EQ(plan.value, "42750 0,0 42:43");
}

// Verifies the stand-ins: a device's numbers and a symlink's type go into the record of the
// regular file that represents them (whose real mode follows the wanted permissions).
TEST(StatXattrTest, PlanRecordsDevicesAndSymlinks)
{
    auto plan = plan_stat_xattr(real_stat(S_IFREG | 0600, 0, 0), std::nullopt, S_IFBLK | 0644, makedev(8, 1), 0, 0);
    ASSERT_TRUE(plan.chmod_to.has_value());
    EXPECT_EQ(*plan.chmod_to, static_cast<mode_t>(S_IFREG | 0644));
    EXPECT_EQ(plan.value, "60644 8,1 0:0");
    plan = plan_stat_xattr(real_stat(S_IFREG | 0600, 0, 0), std::nullopt, S_IFLNK | 0777, 0, 99, 98);
    EXPECT_EQ(*plan.chmod_to, static_cast<mode_t>(S_IFREG | 0777));
    EXPECT_EQ(plan.value, "120777 0,0 99:98");
    // Device numbers of anything but a device are not recorded.
    plan = plan_stat_xattr(real_stat(S_IFREG | 0600, 0, 0), std::nullopt, S_IFIFO | 0640, makedev(3, 4), 5, 6);
    EXPECT_EQ(plan.value, "10640 0,0 5:6");
}

// Verifies that an up-to-date record is left alone and a stale one rewritten.
TEST(StatXattrTest, PlanRewritesOnlyStaleRecords)
{
    const struct stat real = real_stat(S_IFREG | 0755, 65534, 65534);
    auto plan = plan_stat_xattr(real, StatXattr{0104755, 0, 0, 1234, 5678}, S_IFREG | 04755, 0, 1234, 5678);
    EXPECT_EQ(plan.action, StatXattrPlan::Action::Keep);
    EXPECT_FALSE(plan.chmod_to.has_value());
    plan = plan_stat_xattr(real, StatXattr{0104755, 0, 0, 1234, 5678}, S_IFREG | 0755, 0, 1234, 5678);
    EXPECT_EQ(plan.action, StatXattrPlan::Action::Write);
    EXPECT_EQ(plan.value, "100755 0,0 1234:5678");
    // A record with bits beyond the 16 of a mode is never "the same".
    plan = plan_stat_xattr(real, StatXattr{01104755, 0, 0, 1234, 5678}, S_IFREG | 04755, 0, 1234, 5678);
    EXPECT_EQ(plan.action, StatXattrPlan::Action::Write);
}

// Verifies that a malformed record ends the transfer with upstream's message and code 11.
TEST(StatXattrTest, CorruptRecordIsFileIoError)
{
    try {
        throw_corrupt_stat_xattr("\"plain\" (in nob)", std::string("garbage\0more", 12));
        FAIL() << "no exception";
    } catch (const protocol::ProtocolError& e) {
        EXPECT_EQ(e.code(), protocol::ExitCode::FileIo);
        EXPECT_STREQ(e.what(), "Corrupt user.rsync.%stat xattr attached to \"plain\" (in nob): \"garbage\"");
        ASSERT_NE(e.site().file, nullptr);
        EXPECT_STREQ(e.site().file, "xattrs.c");
    }
}

// Verifies reading a record from a real file: none, a good one, a corrupt one, and one too
// long for upstream's buffer (ERANGE).
TEST(StatXattrTest, ReadsRecordFromFd)
{
    char tmpl[] = "/tmp/ocr-stat-xattr-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::unlink(tmpl);
    auto found = read_stat_xattr(fd);
    EXPECT_EQ(found.result, StatXattrLookup::Result::None);
    const std::string good = "104755 0,0 1234:5678";
    ASSERT_EQ(::fsetxattr(fd, kStatXattrName, good.data(), good.size(), 0), 0);
    found = read_stat_xattr(fd);
    ASSERT_EQ(found.result, StatXattrLookup::Result::Found);
    EXPECT_EQ(found.record, (StatXattr{0104755, 0, 0, 1234, 5678}));
    ASSERT_EQ(::fsetxattr(fd, kStatXattrName, "junk", 4, 0), 0);
    found = read_stat_xattr(fd);
    ASSERT_EQ(found.result, StatXattrLookup::Result::Corrupt);
    EXPECT_EQ(found.raw, "junk");
    const std::string big(400, '7');
    ASSERT_EQ(::fsetxattr(fd, kStatXattrName, big.data(), big.size(), 0), 0);
    found = read_stat_xattr(fd);
    EXPECT_EQ(found.result, StatXattrLookup::Result::Failed);
    EXPECT_EQ(found.err, ERANGE);
    ASSERT_EQ(::fremovexattr(fd, kStatXattrName), 0);
    EXPECT_EQ(read_stat_xattr(fd).result, StatXattrLookup::Result::None);
    ::close(fd);
}

} // namespace
} // namespace ocr::transfer
