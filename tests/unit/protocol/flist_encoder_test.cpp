// SPDX-License-Identifier: MIT
#include "protocol/flist_encoder.hpp"

#include "protocol/ndx.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

namespace ocr::protocol {
namespace {

std::string hex(const std::string& s)
{
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        if (!out.empty())
            out += ' ';
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

IdNameLookup names(std::map<std::uint32_t, std::string> table)
{
    return [table](std::uint32_t id) -> std::optional<std::string> {
        const auto it = table.find(id);
        return it == table.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

FileEntry make(const std::string& name, std::uint32_t mode, std::int64_t size = 0,
               std::int64_t mtime = 1700000000)
{
    FileEntry e;
    e.name = name;
    e.mode = mode;
    e.size = size;
    e.mtime = mtime;
    return e;
}

FileEntry root_dir()
{
    FileEntry e = make(".", kModeDir | 0755, 4096);
    e.top_dir = true;
    e.content_dir = true;
    return e;
}

// Encodes one list and returns the bytes of entry @p which alone.
std::string entry_bytes(FlistEncoder& enc, const std::vector<FileEntry>& list, std::size_t which)
{
    std::string out;
    enc.begin_list();
    std::string wanted;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::size_t before = out.size();
        enc.put_entry(out, list[i]);
        if (i == which)
            wanted = out.substr(before);
    }
    (void)enc.end_list(out, 0);
    return wanted;
}

// Verifies the example entry of the protocol notes, accepted by a 3.5.0 client: "a.txt"
// after "." with the same owner and time is flags 0x98 (varint 80 98), the name, size, mode.
TEST(FlistEncoder, NotesExample)
{
    FlistOptions o;
    o.protocol = 32;
    o.varint_flags = true;
    o.preserve_uid = o.preserve_gid = true;
    FlistEncoder enc(o, names({}), names({}));
    const std::string b = entry_bytes(enc, {root_dir(), make("a.txt", kModeRegular | 0644, 5)}, 1);
    EXPECT_EQ(hex(b), "80 98 05 61 2e 74 78 74 00 05 00 a4 81 00 00");
}

// Verifies the byte flag forms of protocols 28-31: TOP_DIR as filler on a non-directory
// whose flags are zero, a second byte (EXTENDED_FLAGS) for a directory with zero flags or
// any bit above 0xFF, and one byte otherwise.
TEST(FlistEncoder, ByteFlags)
{
    FlistOptions o;
    o.protocol = 29;
    o.preserve_uid = o.preserve_gid = true; // else SAME_UID/SAME_GID are always set
    FlistEncoder enc(o, {}, {});
    std::string out;
    enc.begin_list();
    enc.put_entry(out, make("x", kModeRegular | 0600, 1));
    EXPECT_EQ(hex(out.substr(0, 3)), "01 01 78"); // TOP_DIR filler, name length 1, "x"
    out.clear();
    FileEntry y = make("y", kModeDir | 0755, 1, 5);
    y.uid = y.gid = 1;
    enc.put_entry(out, y);
    EXPECT_EQ(hex(out.substr(0, 3)), "04 00 01"); // extended, all zero
    out.clear();
    FileEntry yz = y;
    yz.name = "yz";
    enc.put_entry(out, yz);
    EXPECT_EQ(hex(out.substr(0, 5)), "ba 01 01 7a 01"); // SAME_* and SAME_NAME; l1, l2, "z", size
}

// Verifies protocol 27: a directory whose low flag byte is zero gets LONG_NAME, so its name
// length goes as an int32; times and sizes are int32/longint.
TEST(FlistEncoder, Protocol27Directory)
{
    FlistOptions o;
    o.protocol = 27;
    o.preserve_uid = o.preserve_gid = true;
    FlistEncoder enc(o, {}, {});
    const std::string b = entry_bytes(enc, {make("d", kModeDir | 0755, 4096, 1)}, 0);
    EXPECT_EQ(hex(b),
              "40 01 00 00 00 64 00 10 00 00 01 00 00 00 ed 41 00 00 00 00 00 00 00 00 00 00");
}

// Verifies the end markers: varint zero plus io_error, the single zero byte, and the
// EXTENDED|IO_ERROR_ENDLIST form that only safe-flist peers understand.
TEST(FlistEncoder, EndMarkers)
{
    FlistOptions v;
    v.protocol = 32;
    v.varint_flags = true;
    v.use_safe_inc_flist = true;
    {
        FlistEncoder enc(v, {}, {});
        std::string out;
        enc.begin_list();
        EXPECT_TRUE(enc.end_list(out, 5));
        EXPECT_EQ(hex(out), "00 05");
    }
    FlistOptions b;
    b.protocol = 30;
    b.use_safe_inc_flist = true;
    {
        FlistEncoder enc(b, {}, {});
        std::string out;
        enc.begin_list();
        EXPECT_TRUE(enc.end_list(out, 3));
        EXPECT_EQ(hex(out), "04 10 03");
    }
    b.use_safe_inc_flist = false;
    {
        FlistEncoder enc(b, {}, {});
        std::string out;
        enc.begin_list();
        EXPECT_FALSE(enc.end_list(out, 3)); // the caller must send MSG_IO_ERROR
        EXPECT_EQ(hex(out), "00");
    }
    b.ignore_errors = true;
    {
        FlistEncoder enc(b, {}, {});
        std::string out;
        enc.begin_list();
        EXPECT_TRUE(enc.end_list(out, 3));
        EXPECT_EQ(hex(out), "00");
    }
}

// Verifies the first list's trailer below protocol 30: uid list, gid list, io_error int32.
TEST(FlistEncoder, Protocol29Trailer)
{
    FlistOptions o;
    o.protocol = 29;
    o.preserve_uid = o.preserve_gid = true;
    FlistEncoder enc(o, names({{5, "u"}}), names({}));
    std::string out;
    enc.begin_list();
    FileEntry f = make("f", kModeRegular | 0644);
    f.uid = 5;
    f.gid = 6;
    enc.put_entry(out, f);
    (void)enc.end_list(out, 1);
    out.clear();
    enc.put_first_list_trailer(out, 1);
    EXPECT_EQ(hex(out), "05 00 00 00 01 75 00 00 00 00 00 00 00 00 01 00 00 00");
}

// Verifies inline names with incremental recursion: the first entry with an id carries its
// name, later ones with the same id neither the id nor the name, and no id lists follow.
TEST(FlistEncoder, InlineNamesWithIncRecursion)
{
    FlistOptions o;
    o.protocol = 31;
    o.varint_flags = true;
    o.inc_recurse = true;
    o.preserve_uid = true;
    FlistEncoder enc(o, names({{1000, "alice"}}), {});
    FileEntry a = make("a", kModeRegular | 0644);
    a.uid = 1000;
    FileEntry b = make("b", kModeRegular | 0644);
    b.uid = 1000;
    std::string out;
    EXPECT_EQ(enc.begin_list(), 1);
    enc.put_entry(out, a);
    // flags USER_NAME_FOLLOWS(0x400)|SAME_GID(0x10) = 0x410; ... mode; uid 1000; name.
    EXPECT_EQ(hex(out), "84 10 01 61 00 00 00 65 00 f1 53 a4 81 00 00 83 e8 05 61 6c 69 63 65");
    out.clear();
    enc.put_entry(out, b);
    EXPECT_EQ(hex(out.substr(0, 2)), "80 9a"); // SAME_TIME|SAME_GID|SAME_UID|SAME_MODE, no name
    (void)enc.end_list(out, 0);
    out.clear();
    enc.put_first_list_trailer(out, 0);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(enc.begin_list(), 4); // 1 + 2 entries + 1
}

// Verifies hard links from protocol 30: the first sighting carries HLINK_FIRST and full data,
// a later link in the same list only its name and the first one's index, and a link in a
// later list the index plus full data.
TEST(FlistEncoder, HardLinksProtocol30)
{
    FlistOptions o;
    o.protocol = 32;
    o.varint_flags = true;
    o.inc_recurse = true;
    o.preserve_hard_links = true;
    FlistEncoder enc(o, {}, {});
    FileEntry a = make("a", kModeRegular | 0644, 9);
    a.dev_ino = DevIno{1, 77};
    a.nlink = 3;
    FileEntry b = a;
    b.name = "b";
    FileEntry lone = make("c", kModeRegular | 0644, 9);
    lone.dev_ino = DevIno{1, 78};
    std::string out;
    enc.begin_list();
    enc.put_entry(out, a);
    EXPECT_EQ(hex(out.substr(0, 2)), "92 18"); // HLINK_FIRST|HLINKED|SAME_GID|SAME_UID
    out.clear();
    enc.put_entry(out, b);
    EXPECT_EQ(hex(out),
              "82 9a 01 62 01"); // HLINKED|SAME_TIME|SAME_GID|SAME_UID|SAME_MODE; "b"; index 1
    out.clear();
    enc.put_entry(out, lone); // nlink 1: not tracked
    EXPECT_EQ(hex(out.substr(0, 2)), "80 9a");
    (void)enc.end_list(out, 0);
    out.clear();
    EXPECT_EQ(enc.begin_list(), 5);
    FileEntry later = a;
    later.name = "d/e";
    enc.put_entry(out, later);
    EXPECT_EQ(hex(out), "82 9a 03 64 2f 65 01 00 09 00"); // index 1, then the size
}

// Verifies the sub-list framing helpers: a header index before the list, NDX_FLIST_EOF at the
// end, and that sub-lists exist only with incremental recursion.
TEST(FlistEncoder, SubListFraming)
{
    FlistOptions o;
    o.protocol = 31;
    o.varint_flags = true;
    o.inc_recurse = true;
    FlistEncoder enc(o, {}, {});
    NdxEncoder ndx(o.protocol);
    std::string out;
    EXPECT_THROW((void)enc.begin_sublist(out, ndx, 1), std::logic_error); // no first list yet
    EXPECT_EQ(enc.begin_list(), 1);
    (void)enc.end_list(out, 0);
    out.clear();
    EXPECT_EQ(enc.begin_sublist(out, ndx, 1), 2);
    (void)enc.end_list(out, 0);
    FlistEncoder::put_flist_eof(out, ndx);
    EXPECT_EQ(hex(out), "ff 65 00 00 ff fe 80 02 00 00"); // -102, end, -2 (going back: absolute)
    FlistOptions plain = o;
    plain.inc_recurse = false;
    FlistEncoder flat(plain, {}, {});
    flat.begin_list();
    (void)flat.end_list(out, 0);
    EXPECT_THROW((void)flat.begin_sublist(out, ndx, 0), std::logic_error);
}

// Verifies protocol-29 hard links: dev + 1 and ino as longints, SAME_DEV for a repeat.
TEST(FlistEncoder, HardLinksProtocol29)
{
    FlistOptions o;
    o.protocol = 29;
    o.preserve_hard_links = true;
    FlistEncoder enc(o, {}, {});
    FileEntry a = make("a", kModeRegular | 0644, 1);
    a.dev_ino = DevIno{4, 10};
    a.nlink = 2;
    FileEntry b = a;
    b.name = "b";
    b.dev_ino = DevIno{4, 11};
    std::string out;
    enc.begin_list();
    enc.put_entry(out, a);
    EXPECT_EQ(hex(out.substr(out.size() - 8)), "05 00 00 00 0a 00 00 00");
    out.clear();
    enc.put_entry(out, b);
    EXPECT_EQ(hex(out.substr(0, 2)), "9e 06"); // EXTENDED|SAME_*, then (HLINKED|SAME_DEV) >> 8
    EXPECT_EQ(hex(out.substr(out.size() - 4)), "0b 00 00 00");
}

// Verifies device numbers: varint major/minor from protocol 30 with SAME_RDEV_MAJOR on a
// repeat; specials send a zero minor before 31 and nothing from 31.
TEST(FlistEncoder, DevicesAndSpecials)
{
    for (const int protocol : {30, 31}) {
        FlistOptions o;
        o.protocol = protocol;
        o.varint_flags = true;
        o.preserve_devices = o.preserve_specials = true;
        FlistEncoder enc(o, {}, {});
        FileEntry c1 = make("c1", kModeChar | 0600);
        c1.rdev_major = 4;
        c1.rdev_minor = 300;
        FileEntry c2 = make("c2", kModeChar | 0600);
        c2.rdev_major = 4;
        c2.rdev_minor = 1;
        FileEntry p = make("p", kModeFifo | 0600, 99);
        std::string out;
        enc.begin_list();
        enc.put_entry(out, c1);
        EXPECT_EQ(hex(out.substr(out.size() - 3)), "04 81 2c");
        out.clear();
        enc.put_entry(out, c2);
        EXPECT_EQ(hex(out.substr(0, 2)),
                  "81 ba"); // SAME_RDEV_MAJOR|SAME_TIME|SAME_NAME|SAME_GID|SAME_UID|SAME_MODE
        EXPECT_EQ(hex(out.substr(out.size() - 1)), "01");
        out.clear();
        enc.put_entry(out, p);
        if (protocol == 30)
            EXPECT_EQ(hex(out), "81 98 01 70 00 00 00 80 11 00 00 00"); // size 0, mode, minor 0
        else
            EXPECT_EQ(hex(out), "80 98 01 70 00 00 00 80 11 00 00");
    }
}

// Verifies that --crtimes sends CRTIME_EQ_MTIME (a bit only varint flags can carry) when the
// creation time equals the modification time.
TEST(FlistEncoder, CrtimeEqualsMtime)
{
    FlistOptions o;
    o.protocol = 32;
    o.varint_flags = true;
    o.preserve_crtimes = true;
    FlistEncoder enc(o, {}, {});
    FileEntry f = make("f", kModeRegular | 0644, 1, 10);
    f.crtime = 10;
    std::string out;
    enc.begin_list();
    enc.put_entry(out, f);
    EXPECT_EQ(hex(out.substr(0, 3)), "c2 18 00"); // CRTIME_EQ_MTIME|SAME_GID|SAME_UID as a varint
}

// Verifies -c sums: regular files carry theirs, and before protocol 28 every other entry
// carries zeros of the same length.
TEST(FlistEncoder, Checksums)
{
    FlistOptions o;
    o.protocol = 27;
    o.always_checksum = true;
    o.checksum_len = 4;
    FlistEncoder enc(o, {}, {});
    FileEntry f = make("f", kModeRegular | 0644, 1);
    f.checksum = "ABCD";
    std::string out;
    enc.begin_list();
    enc.put_entry(out, f);
    EXPECT_EQ(out.substr(out.size() - 4), "ABCD");
    out.clear();
    enc.put_entry(out, make("d", kModeDir | 0755));
    EXPECT_EQ(hex(out.substr(out.size() - 4)), "00 00 00 00");
    FileEntry bad = f;
    bad.checksum = "AB";
    EXPECT_THROW(enc.put_entry(out, bad), std::invalid_argument);
}

// Verifies the counters and the misuse errors.
TEST(FlistEncoder, StatsAndMisuse)
{
    FlistOptions o;
    o.protocol = 32;
    o.varint_flags = true;
    o.preserve_links = true;
    FlistEncoder enc(o, {}, {});
    std::string out;
    EXPECT_THROW(enc.put_entry(out, make("x", kModeRegular)), std::logic_error);
    EXPECT_EQ(enc.begin_list(), 0);
    EXPECT_THROW((void)enc.begin_list(), std::logic_error);
    EXPECT_THROW(enc.put_entry(out, make("", kModeRegular)), std::invalid_argument);
    EXPECT_THROW(enc.put_entry(out, make(std::string(kMaxPathLen, 'n'), kModeRegular)),
                 std::invalid_argument);
    EXPECT_THROW(enc.put_entry(out, make("l", kModeSymlink | 0777)),
                 std::invalid_argument); // no target
    FileEntry link = make("l", kModeSymlink | 0777, 3);
    link.symlink_target = "abc";
    enc.put_entry(out, root_dir());
    enc.put_entry(out, link);
    enc.put_entry(out, make("f", kModeRegular | 0644, 10));
    enc.put_entry(out, make("p", kModeFifo | 0644));
    EXPECT_EQ(enc.list_count(), 4);
    EXPECT_EQ(enc.stats().num_files, 4);
    EXPECT_EQ(enc.stats().num_dirs, 1);
    EXPECT_EQ(enc.stats().num_symlinks, 1);
    EXPECT_EQ(enc.stats().num_specials, 1);
    EXPECT_EQ(enc.stats().total_size, 13);
    (void)enc.end_list(out, 0);
    EXPECT_THROW((void)enc.end_list(out, 0), std::logic_error);
}

} // namespace
} // namespace ocr::protocol
