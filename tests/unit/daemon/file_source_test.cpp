// SPDX-License-Identifier: MIT
// Tests of DiskFileSource, the recording/replaying sources and the FileBundle encoding.
#include "daemon/file_source.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace ocr::daemon {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "ocr-fs-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] std::string file(const std::string& name, const std::string& contents,
                                   mode_t mode = 0644) const
    {
        std::string p = (path_ / name).string();
        std::ofstream(p, std::ios::binary) << contents;
        ::chmod(p.c_str(), mode);
        return p;
    }
    [[nodiscard]] std::string path(const std::string& name = {}) const
    {
        return name.empty() ? path_.string() : (path_ / name).string();
    }

private:
    fs::path path_;
};

// Verifies that a regular file is read with its mode and owner.
TEST(DiskFileSource, ReadsRegularFile)
{
    TempDir d;
    std::string p = d.file("a.conf", "path = /x\n", 0640);
    DiskFileSource src;
    ReadResult r = src.read(p);
    ASSERT_TRUE(std::holds_alternative<FileData>(r));
    const auto& data = std::get<FileData>(r);
    EXPECT_EQ(data.contents, "path = /x\n");
    EXPECT_EQ(data.mode & 07777, 0640u);
    EXPECT_TRUE(S_ISREG(data.mode));
    EXPECT_EQ(data.uid, ::geteuid());
    EXPECT_FALSE(data.is_directory);
}

// Verifies that a missing file reports ENOENT.
TEST(DiskFileSource, MissingFile)
{
    TempDir d;
    DiskFileSource src;
    ReadResult r = src.read(d.path("nope"));
    ASSERT_TRUE(std::holds_alternative<FileError>(r));
    EXPECT_EQ(std::get<FileError>(r).errno_value, ENOENT);
}

// Verifies that files above the size bound are refused with EFBIG.
TEST(DiskFileSource, SizeBound)
{
    TempDir d;
    std::string p = d.file("big", std::string(100, 'x'));
    DiskFileSource small(99);
    ReadResult r = small.read(p);
    ASSERT_TRUE(std::holds_alternative<FileError>(r));
    EXPECT_EQ(std::get<FileError>(r).errno_value, EFBIG);
    DiskFileSource enough(100);
    EXPECT_TRUE(std::holds_alternative<FileData>(enough.read(p)));
}

// Verifies that a symlink we own is followed (the final component check).
TEST(DiskFileSource, FollowsOwnSymlink)
{
    TempDir d;
    std::string target = d.file("target", "secret\n");
    std::string link = d.path("link");
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    DiskFileSource src;
    ReadResult r = src.read(link);
    ASSERT_TRUE(std::holds_alternative<FileData>(r));
    EXPECT_EQ(std::get<FileData>(r).contents, "secret\n");
}

// Verifies that a symlink owned by someone other than root or us is refused with ELOOP.
TEST(DiskFileSource, RefusesForeignSymlink)
{
    TempDir d;
    std::string target = d.file("target", "secret\n");
    std::string link = d.path("link");
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    // As root, hand the link to another user; otherwise trust another uid than ours.
    std::optional<uid_t> trusted;
    if (::geteuid() == 0)
        ASSERT_EQ(::lchown(link.c_str(), 12345, 12345), 0);
    else
        trusted = ::geteuid() + 1;
    DiskFileSource src(kMaxBundleFileSize, trusted);
    ReadResult r = src.read(link);
    ASSERT_TRUE(std::holds_alternative<FileError>(r));
    EXPECT_EQ(std::get<FileError>(r).errno_value, ELOOP);
}

// Verifies that reading a directory reports it as a directory, and that FIFOs are refused
// without blocking.
TEST(DiskFileSource, DirectoriesAndFifos)
{
    TempDir d;
    DiskFileSource src;
    ReadResult r = src.read(d.path());
    ASSERT_TRUE(std::holds_alternative<FileData>(r));
    EXPECT_TRUE(std::get<FileData>(r).is_directory);

    std::string fifo = d.path("fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    r = src.read(fifo);
    ASSERT_TRUE(std::holds_alternative<FileError>(r));
    EXPECT_EQ(std::get<FileError>(r).errno_value, EINVAL);
}

// Verifies that /dev/null (a character device) reads as empty.
TEST(DiskFileSource, CharacterDevice)
{
    DiskFileSource src;
    ReadResult r = src.read("/dev/null");
    ASSERT_TRUE(std::holds_alternative<FileData>(r));
    EXPECT_EQ(std::get<FileData>(r).contents, "");
}

// Verifies directory listing (sorted, without . and ..) and is_dir().
TEST(DiskFileSource, ListsDirectories)
{
    TempDir d;
    (void)d.file("b.conf", "");
    (void)d.file("a.conf", "");
    (void)d.file("c.inc", "");
    DiskFileSource src;
    ListResult l = src.list_dir(d.path());
    ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(l));
    EXPECT_EQ(std::get<std::vector<std::string>>(l),
              (std::vector<std::string>{"a.conf", "b.conf", "c.inc"}));
    EXPECT_TRUE(src.is_dir(d.path()));
    EXPECT_FALSE(src.is_dir(d.path("a.conf")));
    EXPECT_FALSE(src.is_dir(d.path("none")));
    ListResult missing = src.list_dir(d.path("none"));
    ASSERT_TRUE(std::holds_alternative<FileError>(missing));
    EXPECT_EQ(std::get<FileError>(missing).errno_value, ENOENT);
}

// Verifies that every answer is recorded and a repeated read returns the first answer.
TEST(DiskFileSource, RecordsAndCaches)
{
    TempDir d;
    std::string p = d.file("a", "one");
    DiskFileSource src;
    (void)src.read(p);
    (void)d.file("a", "two");
    EXPECT_EQ(std::get<FileData>(src.read(p)).contents, "one");
    (void)src.is_dir(d.path());
    (void)src.list_dir(d.path());
    ASSERT_NE(src.bundle().find_read(p), nullptr);
    EXPECT_EQ(src.bundle().find_is_dir(d.path()), true);
    EXPECT_NE(src.bundle().find_list(d.path()), nullptr);
}

FileBundle sample_bundle()
{
    FileBundle b;
    b.record_read("/etc/rsyncd.conf", FileData{"[m]\npath = /x\n", 0100644, 0, false});
    b.record_read("/etc/secrets", FileData{std::string("a:b\n\0x", 6), 0100600, 1000, false});
    b.record_read("/etc/dir", FileData{"", 040755, 0, true});
    b.record_read("/etc/missing", FileError{ENOENT});
    b.record_list("/etc/rsyncd.d", std::vector<std::string>{"a.conf", "b.inc"});
    b.record_list("/etc/nolist", FileError{EACCES});
    b.record_is_dir("/etc/rsyncd.d", true);
    b.record_is_dir("/etc/rsyncd.conf", false);
    return b;
}

// Verifies that serialize/deserialize round-trips every kind of record.
TEST(FileBundle, RoundTrip)
{
    FileBundle b = sample_bundle();
    std::string bytes = b.serialize();
    auto back = FileBundle::deserialize(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, b);
    EXPECT_EQ(back->serialize(), bytes);
    auto empty = FileBundle::deserialize(FileBundle{}.serialize());
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, FileBundle{});
}

// Verifies that every truncation of a valid encoding is rejected.
TEST(FileBundle, TruncatedRejected)
{
    std::string bytes = sample_bundle().serialize();
    for (std::size_t n = 0; n < bytes.size(); ++n)
        EXPECT_FALSE(FileBundle::deserialize(std::string_view(bytes).substr(0, n))) << n;
}

// Verifies that trailing bytes, a bad magic, a bad tag and huge lengths are rejected.
TEST(FileBundle, CorruptionRejected)
{
    std::string bytes = sample_bundle().serialize();
    EXPECT_FALSE(FileBundle::deserialize(bytes + "x"));
    std::string bad_magic = bytes;
    bad_magic[0] = 'X';
    EXPECT_FALSE(FileBundle::deserialize(bad_magic));

    // magic(6) + count(4) + path length(4) + "/etc/dir"(8) -> the tag of the first read.
    ASSERT_EQ(bytes.substr(14, 8), "/etc/dir");
    std::string bad_tag = bytes;
    bad_tag[6 + 4 + 4 + 8] = 7;
    EXPECT_FALSE(FileBundle::deserialize(bad_tag));

    // A read count far above the bound.
    std::string huge_count = bytes;
    huge_count[6 + 3] = '\x7f';
    EXPECT_FALSE(FileBundle::deserialize(huge_count));

    // A path length running past the end.
    std::string huge_len = bytes;
    huge_len[6 + 4 + 3] = '\x10';
    EXPECT_FALSE(FileBundle::deserialize(huge_len));
}

// Verifies that repeated or unsorted paths are rejected (the encoding is canonical).
TEST(FileBundle, DuplicatePathsRejected)
{
    FileBundle b;
    b.record_is_dir("/a", true);
    b.record_is_dir("/b", false);
    std::string bytes = b.serialize();
    // Turn "/b" into "/a": same length, now a duplicate.
    auto pos = bytes.rfind("/b");
    ASSERT_NE(pos, std::string::npos);
    bytes[pos + 1] = 'a';
    EXPECT_FALSE(FileBundle::deserialize(bytes));
}

// Verifies that directory entries that could escape when joined are rejected.
TEST(FileBundle, BadEntryNamesRejected)
{
    FileBundle b;
    b.record_list("/d", std::vector<std::string>{"../x"});
    EXPECT_THROW((void)b.serialize(), std::invalid_argument);
    FileBundle ok;
    ok.record_list("/d", std::vector<std::string>{"ab"});
    std::string bytes = ok.serialize();
    auto pos = bytes.rfind("ab");
    bytes[pos] = '.';
    bytes[pos + 1] = '.';
    EXPECT_FALSE(FileBundle::deserialize(bytes));
}

// Verifies that oversized input is rejected before parsing.
TEST(FileBundle, OversizedInputRejected)
{
    std::string bytes(kMaxBundleSerializedSize + 1, '\0');
    EXPECT_FALSE(FileBundle::deserialize(bytes));
}

// Verifies that a file above the per-file bound cannot be serialized.
TEST(FileBundle, OversizedFileNotSerialized)
{
    FileBundle b;
    b.record_read("/big", FileData{std::string(kMaxBundleFileSize + 1, 'x'), 0100644, 0, false});
    EXPECT_THROW((void)b.serialize(), std::length_error);
}

// Verifies that BundleFileSource replays records and answers ENOENT otherwise.
TEST(BundleFileSource, Replays)
{
    BundleFileSource src(sample_bundle());
    EXPECT_EQ(std::get<FileData>(src.read("/etc/rsyncd.conf")).contents, "[m]\npath = /x\n");
    EXPECT_EQ(std::get<FileError>(src.read("/etc/missing")).errno_value, ENOENT);
    EXPECT_EQ(std::get<FileError>(src.read("/never")).errno_value, ENOENT);
    EXPECT_EQ(std::get<FileError>(src.list_dir("/never")).errno_value, ENOENT);
    EXPECT_EQ(std::get<FileError>(src.list_dir("/etc/nolist")).errno_value, EACCES);
    EXPECT_TRUE(src.is_dir("/etc/rsyncd.d"));
    EXPECT_FALSE(src.is_dir("/never"));
}

// Verifies that RecordingFileSource records what the inner source answered.
TEST(RecordingFileSource, Records)
{
    BundleFileSource inner(sample_bundle());
    RecordingFileSource rec(inner);
    (void)rec.read("/etc/rsyncd.conf");
    (void)rec.read("/never");
    (void)rec.list_dir("/etc/rsyncd.d");
    (void)rec.is_dir("/etc/rsyncd.d");
    const FileBundle& b = rec.bundle();
    ASSERT_NE(b.find_read("/etc/rsyncd.conf"), nullptr);
    ASSERT_NE(b.find_read("/never"), nullptr);
    EXPECT_EQ(std::get<FileError>(*b.find_read("/never")).errno_value, ENOENT);
    EXPECT_EQ(b.find_read("/etc/secrets"), nullptr);
    EXPECT_NE(b.find_list("/etc/rsyncd.d"), nullptr);
    EXPECT_EQ(b.find_is_dir("/etc/rsyncd.d"), true);
}

// A source that answers anything, to push FileRecorder against its bounds.
class Generous final : public FileSource {
public:
    ReadResult read(const std::string&) override
    {
        ++asked;
        return FileData{std::string(size, 'x'), 0100644, 0, false};
    }
    ListResult list_dir(const std::string&) override
    {
        ++asked;
        return names;
    }
    bool is_dir(const std::string&) override
    {
        ++asked;
        return true;
    }
    std::size_t size = 1;
    std::vector<std::string> names{"a"};
    int asked = 0;
};

// Verifies that unusable paths are answered without asking and are not recorded, so the
// bundle always serializes.
TEST(RecordingFileSource, UnusablePathsNotRecorded)
{
    Generous inner;
    RecordingFileSource rec(inner);
    std::string long_path(kMaxBundlePathLength + 1, 'a');
    EXPECT_EQ(std::get<FileError>(rec.read(long_path)).errno_value, ENAMETOOLONG);
    EXPECT_EQ(std::get<FileError>(rec.read("")).errno_value, ENOENT);
    EXPECT_EQ(std::get<FileError>(rec.read(std::string("a\0b", 3))).errno_value, ENOENT);
    EXPECT_EQ(std::get<FileError>(rec.list_dir(long_path)).errno_value, ENAMETOOLONG);
    EXPECT_FALSE(rec.is_dir(long_path));
    EXPECT_EQ(inner.asked, 0);
    EXPECT_TRUE(rec.bundle().reads().empty());
    EXPECT_NO_THROW((void)rec.bundle().serialize());
}

// Verifies that oversized files and unusable listings are recorded as errors.
TEST(RecordingFileSource, OversizedAnswersBecomeErrors)
{
    Generous inner;
    inner.size = kMaxBundleFileSize + 1;
    inner.names = {"ok", "../escape"};
    RecordingFileSource rec(inner);
    EXPECT_EQ(std::get<FileError>(rec.read("/big")).errno_value, EFBIG);
    EXPECT_EQ(std::get<FileError>(rec.list_dir("/d")).errno_value, EINVAL);
    ASSERT_NE(rec.bundle().find_read("/big"), nullptr);
    auto back = FileBundle::deserialize(rec.bundle().serialize());
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, rec.bundle());
}

// Verifies that the recorded bytes stay within their budget: once it is spent, further
// files become EFBIG, and replaying the bundle makes the same decisions.
TEST(RecordingFileSource, TotalBudget)
{
    Generous inner;
    inner.size = kMaxBundleFileSize;
    RecordingFileSource rec(inner);
    int read_ok = 0;
    for (int i = 0; i < 12; ++i)
        if (std::holds_alternative<FileData>(rec.read("/f" + std::to_string(i))))
            ++read_ok;
    EXPECT_EQ(read_ok, static_cast<int>(kMaxBundleRecordedBytes / kMaxBundleFileSize) - 1);
    std::string bytes = rec.bundle().serialize();
    EXPECT_LE(bytes.size(), kMaxBundleSerializedSize);

    auto back = FileBundle::deserialize(bytes);
    ASSERT_TRUE(back);
    BundleFileSource replay_inner(*back);
    RecordingFileSource replay(replay_inner);
    for (int i = 0; i < 12; ++i)
        (void)replay.read("/f" + std::to_string(i));
    EXPECT_EQ(replay.bundle(), rec.bundle());
}

} // namespace
} // namespace ocr::daemon
