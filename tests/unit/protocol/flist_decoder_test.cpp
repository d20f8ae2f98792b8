// SPDX-License-Identifier: MIT
#include "protocol/flist_decoder.hpp"

#include "protocol/flist_xmit.hpp"
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ocr::protocol {
namespace {

constexpr std::uint32_t kFile = kModeRegular | 0644;
constexpr std::uint32_t kDir = kModeDir | 0755;
constexpr std::uint32_t kLink = kModeSymlink | 0777;

// Protocol-32 options with varint flags and nothing preserved beyond names, times, modes.
FlistOptions modern()
{
    FlistOptions o;
    o.protocol = 32;
    o.varint_flags = true;
    o.use_safe_inc_flist = true;
    return o;
}

FlistOptions incremental()
{
    FlistOptions o = modern();
    o.inc_recurse = true;
    return o;
}

// One entry as a sender with varint flags writes it: flags, name, size, mtime, mode.
std::string entry(std::uint32_t xflags, std::string_view name, std::uint32_t mode,
                  std::int64_t size = 1)
{
    std::string s;
    put_varint(s, static_cast<std::int32_t>(xflags ? xflags : xmit::kExtendedFlags));
    put_byte(s, static_cast<std::uint8_t>(name.size()));
    s.append(name);
    put_varlong(s, size, 3);
    if (!(xflags & xmit::kSameTime))
        put_varlong(s, 1700000000, 4);
    if (!(xflags & xmit::kSameMode))
        put_i32(s, static_cast<std::int32_t>(mode));
    return s;
}

std::string end_marker(std::int32_t io_error = 0)
{
    std::string s;
    put_varint(s, 0);
    put_varint(s, io_error);
    return s;
}

void expect_error(const std::string& bytes, const FlistOptions& o, ExitCode code,
                  const std::string& text)
{
    MemorySource in(bytes);
    FlistDecoder dec(o);
    try {
        (void)dec.read_first_list(in);
        ADD_FAILURE() << "accepted; expected: " << text;
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        EXPECT_EQ(std::string(e.what()), text);
    }
}

// Verifies upstream's refusal of names that climb or start at the root.
TEST(FlistDecoder, RefusesUnsafeNames)
{
    const FlistOptions o = modern();
    expect_error(entry(0, "../x", kFile) + end_marker(), o, ExitCode::Unsupported,
                 "ABORTING due to unsafe pathname from sender: ../x");
    expect_error(entry(0, "a/../../x", kFile) + end_marker(), o, ExitCode::Unsupported,
                 "ABORTING due to unsafe pathname from sender: a/../../x");
    expect_error(entry(0, "/etc/passwd", kFile) + end_marker(), o, ExitCode::Unsupported,
                 "ABORTING due to unsafe pathname from sender: /etc/passwd");
    expect_error(entry(0, "", kFile) + end_marker(), o, ExitCode::Unsupported,
                 "ABORTING due to unsafe pathname from sender: ");
    expect_error(entry(0, std::string("a\0b", 3), kFile) + end_marker(), o, ExitCode::Unsupported,
                 "ABORTING due to unsafe pathname from sender: a");
}

// Verifies that names are cleaned as upstream cleans them, and that -R allows a leading
// slash, which goes only after sorting.
TEST(FlistDecoder, CleansNamesAndAllowsRootWithRelative)
{
    FlistOptions o = modern();
    o.relative_paths = true;
    const std::string bytes = entry(0, "//b//c/", kFile) + entry(0, "/a", kFile) + end_marker();
    MemorySource in(bytes);
    FlistDecoder dec(o);
    const DecodedList l = dec.read_first_list(in);
    ASSERT_EQ(l.entries.size(), 2u);
    EXPECT_EQ(l.entries[0].name, "a");
    EXPECT_EQ(l.entries[1].name, "b/c");
    EXPECT_EQ(in.remaining(), 0u);
}

// Verifies the CVE-2026-70459 check: "." must be a directory.
TEST(FlistDecoder, RefusesNonDirectoryDot)
{
    expect_error(entry(0, ".", kFile) + end_marker(), modern(), ExitCode::Protocol,
                 "ERROR: rejecting non-directory transfer-root entry: .");
}

// Verifies that only the standard file types are accepted (mode 0 only with
// --delete-missing-args), with upstream's text.
TEST(FlistDecoder, RefusesUnknownFileTypes)
{
    expect_error(entry(0, "x", 0170644) + end_marker(), modern(), ExitCode::Protocol,
                 "invalid file mode 0170644 for x [Receiver]");
    expect_error(entry(0, "x", 0) + end_marker(), modern(), ExitCode::Protocol,
                 "invalid file mode 00 for x [Receiver]");
    FlistOptions o = modern();
    o.delete_missing_args = true;
    const std::string bytes = entry(0, "x", 0) + end_marker();
    MemorySource in(bytes);
    FlistDecoder dec(o);
    EXPECT_EQ(dec.read_first_list(in).entries.at(0).mode, 0u);
}

// Verifies the bounds on names, symlink targets, nanoseconds and sizes.
TEST(FlistDecoder, RefusesOutOfRangeFields)
{
    FlistOptions o = modern();
    std::string long_name;
    put_varint(long_name, static_cast<std::int32_t>(xmit::kLongName));
    put_varint(long_name, 4096);
    expect_error(long_name, o, ExitCode::Malloc,
                 "overflow: xflags=0x40 l1=0 l2=4096 lastname= [Receiver]");

    std::string nsec;
    put_varint(nsec, static_cast<std::int32_t>(xmit::kModNsec));
    put_byte(nsec, 1);
    nsec += "x";
    put_varlong(nsec, 0, 3);
    put_varlong(nsec, 0, 4);
    put_varint(nsec, 1000000000);
    expect_error(
        nsec, o, ExitCode::Protocol,
        "wire value modtime_nsec out of range: 1000000000 not in [0,999999999] [Receiver]");

    expect_error(entry(0, "x", kFile, -5) + end_marker(), o, ExitCode::Unsupported,
                 "Offset underflow: file-length is negative");

    o.preserve_links = true;
    std::string link = entry(0, "l", kLink, 3);
    put_varint(link, 4096);
    expect_error(link, o, ExitCode::Malloc, "overflow: linkname_len=4096");
}

// Verifies that a shared-prefix length longer than the previous name is refused.
TEST(FlistDecoder, RefusesPrefixBeyondPreviousName)
{
    std::string s = entry(0, "ab", kFile);
    put_varint(s, static_cast<std::int32_t>(xmit::kSameName));
    put_byte(s, 5);
    put_byte(s, 1);
    s += "c";
    expect_error(s, modern(), ExitCode::Protocol,
                 "overflow: xflags=0x20 l1=5 exceeds lastname=ab [Receiver]");
}

// Verifies the end markers: the varint form, the byte form carrying io_error (only with
// safe file lists), masking to the defined bits, and --ignore-errors.
TEST(FlistDecoder, EndMarkersAndIoError)
{
    {
        const std::string bytes = entry(0, "x", kFile) + end_marker(0xFF);
        MemorySource in(bytes);
        FlistDecoder dec(modern());
        (void)dec.read_first_list(in);
        EXPECT_EQ(dec.io_error(), 7);
    }
    FlistOptions bytes_flags = modern();
    bytes_flags.varint_flags = false;
    bytes_flags.protocol = 30;
    {
        const std::string bytes("\x04\x10\x02", 3);
        MemorySource in(bytes);
        FlistDecoder dec(bytes_flags);
        EXPECT_TRUE(dec.read_first_list(in).entries.empty());
        EXPECT_EQ(dec.io_error(), 2);
    }
    bytes_flags.use_safe_inc_flist = false;
    expect_error(std::string("\x04\x10\x02", 3), bytes_flags, ExitCode::Protocol,
                 "Invalid flist flag: 1004");
    {
        FlistOptions o = modern();
        o.ignore_errors = true;
        const std::string bytes = end_marker(1);
        MemorySource in(bytes);
        FlistDecoder dec(o);
        (void)dec.read_first_list(in);
        EXPECT_EQ(dec.io_error(), 0);
    }
}

// Verifies that below protocol 30 the io_error int32 follows the (empty) id lists.
TEST(FlistDecoder, Protocol29IoErrorTrailer)
{
    FlistOptions o;
    o.protocol = 29;
    o.preserve_uid = true;
    const std::string bytes("\x00"
                            "\x00\x00\x00\x00"
                            "\x03\x00\x00\x00",
                            9);
    MemorySource in(bytes);
    FlistDecoder dec(o);
    (void)dec.read_first_list(in);
    EXPECT_EQ(dec.io_error(), 3);
    EXPECT_EQ(in.remaining(), 0u);
}

// Verifies hard-link references: out of range is refused; an abbreviated entry takes the
// first one's attributes; with -H both share a group, without -H (CVE-2026-70458) the flag
// is ignored as 3.5.0 ignores it.
TEST(FlistDecoder, HardLinkReferences)
{
    std::string bad;
    put_varint(bad, static_cast<std::int32_t>(xmit::kHlinked));
    put_byte(bad, 1);
    bad += "x";
    put_varint(bad, 0);
    expect_error(bad, modern(), ExitCode::Protocol, "hard-link reference out of range: 0 (0)");

    std::string s = entry(xmit::kHlinked | xmit::kHlinkFirst, "a", kFile, 77);
    put_varint(s, static_cast<std::int32_t>(xmit::kHlinked));
    put_byte(s, 1);
    s += "b";
    put_varint(s, 0);
    s += entry(xmit::kSameMode, "c", kFile, 5);
    s += end_marker();
    for (const bool hlinks : {false, true}) {
        FlistOptions o = modern();
        o.preserve_hard_links = hlinks;
        MemorySource in(s);
        FlistDecoder dec(o);
        const DecodedList l = dec.read_first_list(in);
        ASSERT_EQ(l.entries.size(), 3u);
        EXPECT_EQ(l.entries[1].name, "b");
        EXPECT_EQ(l.entries[1].size, 77);
        EXPECT_EQ(l.entries[1].mode, kFile);
        EXPECT_EQ(l.entries[2].mode, kFile); // SAME_MODE refers to the copied mode
        EXPECT_EQ(l.entries[0].hlink_group, hlinks ? 0 : -1);
        EXPECT_EQ(l.entries[1].hlink_group, hlinks ? 0 : -1);
        EXPECT_EQ(l.entries[0].hlink_first, hlinks);
        EXPECT_EQ(l.entries[2].hlink_group, -1);
        EXPECT_EQ(in.remaining(), 0u);
    }
}

// Verifies protocol-29 hard links: groups by (dev, ino) with SAME_DEV, and upstream's refusal
// of a zero inode.
TEST(FlistDecoder, Protocol29HardLinks)
{
    FlistOptions o;
    o.protocol = 29;
    o.preserve_hard_links = true;
    auto linked = [](std::uint32_t extra, std::string_view name, std::int64_t dev,
                     std::int64_t ino) {
        std::string s;
        const std::uint32_t f = xmit::kHlinked | xmit::kExtendedFlags | extra;
        put_u16(s, static_cast<std::uint16_t>(f));
        put_byte(s, static_cast<std::uint8_t>(name.size()));
        s.append(name);
        put_longint(s, 1);
        put_i32(s, 1700000000);
        if (!(extra & xmit::kSameMode))
            put_i32(s, static_cast<std::int32_t>(kFile));
        if (!(extra & xmit::kSameDevPre30))
            put_longint(s, dev + 1);
        put_longint(s, ino);
        return s;
    };
    const std::string bytes = linked(0, "a", 5, 100) +
                              linked(xmit::kSameMode | xmit::kSameDevPre30, "b", 5, 200) +
                              linked(xmit::kSameMode | xmit::kSameDevPre30, "c", 5, 100) +
                              std::string(1, '\0') + std::string(4, '\0');
    MemorySource in(bytes);
    FlistDecoder dec(o);
    const DecodedList l = dec.read_first_list(in);
    ASSERT_EQ(l.entries.size(), 3u);
    EXPECT_EQ(l.entries[0].hlink_group, l.entries[2].hlink_group);
    EXPECT_NE(l.entries[0].hlink_group, l.entries[1].hlink_group);
    EXPECT_EQ(in.remaining(), 0u);
    expect_error(linked(0, "z", 5, 0), o, ExitCode::MessageIo,
                 "Internal hashtable error: illegal key supplied!");
}

// Verifies the CVE-2024-12087 family for incremental lists: entries must lie directly in the
// announced directory (the first list holds only top-level names), unknown, duplicate and
// dropped directories are refused, and indexes advance as upstream numbers them.
TEST(FlistDecoder, IncrementalSubLists)
{
    const std::string first =
        entry(0, ".", kDir) + entry(0, "d", kDir) + entry(0, "f", kFile) + end_marker();
    {
        const std::string bytes = first + entry(0, "d/x", kFile) + end_marker();
        MemorySource in(bytes);
        FlistDecoder dec(incremental(), "receiver");
        const DecodedList l = dec.read_first_list(in);
        EXPECT_EQ(l.ndx_start, 1);
        EXPECT_EQ(l.parent_dir_ndx, 0);
        ASSERT_EQ(dec.dir_count(), 2u);
        EXPECT_EQ(dec.dir(1).name, "d");
        EXPECT_THROW((void)dec.read_sublist(in, 2), ProtocolError);
        const DecodedList sub = dec.read_sublist(in, 1);
        EXPECT_EQ(sub.ndx_start, 5);
        EXPECT_EQ(sub.parent_dir_ndx, 1);
        EXPECT_EQ(dec.next_ndx_start(), 7);
        try {
            (void)dec.read_sublist(in, 1);
            FAIL();
        } catch (const ProtocolError& e) {
            EXPECT_STREQ(e.what(), "rsync: refusing malicious duplicate flist for dir 1");
        }
        try {
            (void)dec.read_sublist(in, 7);
            FAIL();
        } catch (const ProtocolError& e) {
            EXPECT_STREQ(e.what(), "rsync: refusing invalid dir_ndx 7 >= 2");
        }
    }
    {
        const std::string bytes = first + entry(0, "e/x", kFile) + end_marker();
        MemorySource in(bytes);
        FlistDecoder dec(incremental());
        (void)dec.read_first_list(in);
        try {
            (void)dec.read_sublist(in, 1);
            FAIL();
        } catch (const ProtocolError& e) {
            EXPECT_EQ(e.code(), ExitCode::Unsupported);
            EXPECT_STREQ(e.what(), "ABORTING due to invalid path from sender: e/x");
        }
    }
    expect_error(entry(0, "a/b", kFile) + end_marker(), incremental(), ExitCode::Unsupported,
                 "ABORTING due to invalid path from sender: a/b");
    {
        // Two "d" directories: the second is dropped, and a list for it is refused.
        const std::string dup =
            entry(0, ".", kDir) + entry(0, "d", kDir) + entry(0, "d", kDir) + end_marker();
        MemorySource in(dup);
        FlistDecoder dec(incremental());
        (void)dec.read_first_list(in);
        ASSERT_EQ(dec.dir_count(), 3u);
        EXPECT_FALSE(dec.dir(2).active);
        try {
            (void)dec.read_sublist(in, 2);
            FAIL();
        } catch (const ProtocolError& e) {
            EXPECT_STREQ(e.what(), "rsync: refusing flist for cleared dir_ndx 2");
        }
    }
    {
        // No "." directory: the first list has no parent.
        const std::string no_root = entry(0, "f", kFile) + entry(0, "g", kFile) + end_marker();
        MemorySource in(no_root);
        FlistDecoder dec(incremental());
        EXPECT_EQ(dec.read_first_list(in).parent_dir_ndx, -1);
    }
    {
        FlistDecoder dec(modern());
        MemorySource in(first);
        (void)dec.read_first_list(in);
        EXPECT_THROW((void)dec.read_sublist(in, 0), ProtocolError); // not incremental
    }
}

// Verifies that a hard link in a sub-list may name an earlier list's entry only if that
// entry started a group (upstream hlink.c:match_gnums).
TEST(FlistDecoder, IncrementalHardLinkGroups)
{
    FlistOptions o = incremental();
    o.preserve_hard_links = true;
    auto reference = [](std::string_view name, std::int32_t target) {
        std::string s;
        put_varint(s, static_cast<std::int32_t>(xmit::kHlinked));
        put_byte(s, static_cast<std::uint8_t>(name.size()));
        s.append(name);
        put_varint(s, target);
        put_varlong(s, 1, 3);
        put_varlong(s, 1700000000, 4);
        put_i32(s, static_cast<std::int32_t>(kFile));
        return s;
    };
    const std::string first = entry(0, ".", kDir) + entry(0, "d", kDir) +
                              entry(xmit::kHlinked | xmit::kHlinkFirst, "f", kFile) + end_marker();
    for (const auto& [target, ok, text] :
         {std::tuple{3, true, ""}, std::tuple{2, false, "hard-link gnum 2 precedes flist start 5"},
          std::tuple{0, false, "Internal hashtable error: illegal key supplied!"}}) {
        const std::string bytes = first + reference("d/x", target) + end_marker();
        MemorySource in(bytes);
        FlistDecoder dec(o);
        (void)dec.read_first_list(in);
        if (ok) {
            const DecodedList sub = dec.read_sublist(in, 1);
            EXPECT_EQ(sub.entries.at(0).hlink_group, 3);
        } else {
            try {
                (void)dec.read_sublist(in, 1);
                FAIL() << target;
            } catch (const ProtocolError& e) {
                EXPECT_STREQ(e.what(), text);
            }
        }
    }
}

// Verifies the list-size bound and the receiver filter hook ("." is never filtered).
TEST(FlistDecoder, SizeBoundAndFilter)
{
    {
        const std::string bytes = entry(0, "a", kFile) + entry(0, "b", kFile) + end_marker();
        MemorySource in(bytes);
        FlistDecoder dec(modern());
        dec.set_max_list_entries(1);
        try {
            (void)dec.read_first_list(in);
            FAIL();
        } catch (const ProtocolError& e) {
            EXPECT_EQ(e.code(), ExitCode::Malloc);
            EXPECT_STREQ(e.what(), "[Receiver] file list has grown too large to expand");
        }
    }
    const std::string bytes = entry(0, ".", kDir) + entry(0, "secret", kFile) + end_marker();
    MemorySource in(bytes);
    FlistDecoder dec(modern(), "Receiver",
                     [](std::string_view name, bool) { return name != "ok"; });
    try {
        (void)dec.read_first_list(in);
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Unsupported);
        EXPECT_STREQ(e.what(), "ERROR: rejecting excluded file-list name: secret");
    }
}

// Verifies that with sanitize_paths (a module without chroot) symlink targets are kept
// inside the module as upstream does, unless symlinks are munged.
TEST(FlistDecoder, SanitizesSymlinkTargets)
{
    for (const bool munge : {false, true}) {
        FlistOptions o = modern();
        o.preserve_links = true;
        o.sanitize_paths = true;
        o.munge_symlinks = munge;
        std::string s = entry(0, "a/b/l", kLink, 19);
        put_varint(s, 19);
        s += "../../../etc/passwd";
        s += end_marker();
        MemorySource in(s);
        FlistDecoder dec(o);
        const DecodedList l = dec.read_first_list(in);
        EXPECT_EQ(l.entries.at(0).symlink_target,
                  munge ? "../../../etc/passwd" : "../../etc/passwd");
    }
}

// Verifies that a truncated list is an end-of-stream error.
TEST(FlistDecoder, TruncatedInput)
{
    const std::string bytes = entry(0, "abc", kFile);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        MemorySource in(std::string_view(bytes).substr(0, n));
        FlistDecoder dec(modern());
        try {
            (void)dec.read_first_list(in);
            FAIL() << n;
        } catch (const ProtocolError& e) {
            EXPECT_EQ(e.code(), ExitCode::StreamIo) << n;
        }
    }
}

} // namespace
} // namespace ocr::protocol
