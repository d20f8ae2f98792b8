// SPDX-License-Identifier: MIT
// Tests for the push's shared file lists (index lookup, parent-directory slots, sub-lists)
// and for the attribute helpers both push threads use.
#include "protocol/flist_encoder.hpp"
#include "protocol/memory_stream.hpp"
#include "protocol/ndx.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/push_attrs.hpp"
#include "transfer/receiver_flists.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ocr::transfer {
namespace {

using protocol::FileEntry;
using protocol::FlistEncoder;
using protocol::FlistOptions;
using protocol::MemorySource;

FileEntry entry(const std::string& name, std::uint32_t mode, std::int64_t size = 0)
{
    FileEntry e;
    e.name = name;
    e.mode = mode;
    e.size = size;
    e.mtime = 1'600'000'000;
    return e;
}

FlistOptions inc_options()
{
    FlistOptions o;
    o.protocol = 31;
    o.inc_recurse = true;
    o.varint_flags = true;
    o.use_safe_inc_flist = true;
    o.recurse = true;
    return o;
}

protocol::IdNameLookup no_names()
{
    return [](std::uint32_t) -> std::optional<std::string> { return std::nullopt; };
}

// Verifies that with incremental recursion the first list starts at index 1, that index 0
// is the "." directory's own slot, and that a sub-list's parent slot names its directory.
TEST(ReceiverFileLists, IncrementalIndexesAndParentSlots)
{
    const FlistOptions o = inc_options();
    FlistEncoder enc(o, no_names(), no_names());
    protocol::NdxEncoder ndx_out(o.protocol);
    std::string wire;
    enc.begin_list();
    enc.put_entry(wire, entry(".", protocol::kModeDir | 0755));
    enc.put_entry(wire, entry("a", protocol::kModeDir | 0755));
    enc.put_entry(wire, entry("f", protocol::kModeRegular | 0644, 5));
    ASSERT_TRUE(enc.end_list(wire, 0));
    enc.put_first_list_trailer(wire, 0);

    ReceiverFileLists lists(o, {}, true);
    MemorySource src(wire);
    lists.read_first(src);
    ASSERT_EQ(lists.list_count(), 1u);
    EXPECT_EQ(lists.list(0).ndx_start, 1);
    EXPECT_EQ(lists.total_entries(), 3);
    const FileEntry* root = lists.entry_for_ndx(0);
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(root->name, ".");
    // Incremental lists sort files before directories (upstream f_name_cmp with inc_recurse).
    const FileEntry* f = lists.entry_for_ndx(2);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->name, "f");
    EXPECT_EQ(lists.entry_for_ndx(3)->name, "a");
    EXPECT_FALSE(lists.list_for_ndx(4).has_value());
    EXPECT_EQ(lists.last_ndx(), 3);

    // The sub-list of "a" (directory 1): its parent slot is index 4.
    std::string more;
    ndx_out.put(more, protocol::flist_header_ndx(1));
    enc.begin_list();
    enc.put_entry(more, entry("a/x", protocol::kModeRegular | 0600, 7));
    ASSERT_TRUE(enc.end_list(more, 0));
    MemorySource sub(more);
    protocol::NdxDecoder ndx_in(o.protocol);
    lists.read_sublist(sub, ndx_in.get(sub));
    ASSERT_EQ(lists.list_count(), 2u);
    EXPECT_EQ(lists.list(1).ndx_start, 5);
    const FileEntry* parent = lists.entry_for_ndx(4);
    ASSERT_NE(parent, nullptr);
    EXPECT_EQ(parent->name, "a");
    EXPECT_EQ(lists.entry_for_ndx(5)->name, "a/x");
    EXPECT_EQ(*lists.list_for_ndx(4), 1u);
    EXPECT_FALSE(lists.eof());
    lists.set_eof();
    EXPECT_TRUE(lists.eof());
}

// Verifies that a sub-list header naming a directory that does not exist is refused with
// upstream's text.
TEST(ReceiverFileLists, RefusesUnknownDirectoryHeader)
{
    const FlistOptions o = inc_options();
    FlistEncoder enc(o, no_names(), no_names());
    std::string wire;
    enc.begin_list();
    enc.put_entry(wire, entry(".", protocol::kModeDir | 0755));
    ASSERT_TRUE(enc.end_list(wire, 0));
    enc.put_first_list_trailer(wire, 0);
    ReceiverFileLists lists(o, {}, true);
    MemorySource src(wire);
    lists.read_first(src);
    MemorySource empty(std::string{});
    try {
        lists.read_sublist(empty, protocol::flist_header_ndx(5));
        FAIL() << "accepted an unknown directory";
    } catch (const protocol::ProtocolError& e) {
        EXPECT_NE(std::string(e.what()).find("Invalid dir index: -106"), std::string::npos) << e.what();
    }
}

// Verifies that names the daemon excludes are refused while the list is read.
TEST(ReceiverFileLists, DaemonFilterRefusesNames)
{
    FlistOptions o;
    o.protocol = 30;
    FlistEncoder enc(o, no_names(), no_names());
    std::string wire;
    enc.begin_list();
    enc.put_entry(wire, entry("secret", protocol::kModeRegular | 0644, 1));
    ASSERT_TRUE(enc.end_list(wire, 0));
    enc.put_first_list_trailer(wire, 0);
    ReceiverFileLists lists(o, [](std::string_view name, bool) { return name == "secret"; }, true);
    MemorySource src(wire);
    EXPECT_THROW(lists.read_first(src), protocol::ProtocolError);
}

// Verifies upstream's dest_mode: new entries lose bits outside the default permissions,
// existing ones keep their own permissions, and -E copies execute bits from read bits.
TEST(PushAttrs, DestMode)
{
    EXPECT_EQ(dest_mode(0100777, 0, 0755, false, false), 0100755u);
    EXPECT_EQ(dest_mode(0104755, 0, 0755, false, false), 0100755u);
    EXPECT_EQ(dest_mode(0100600, 0100640, 0755, true, false), 0100640u);
    EXPECT_EQ(dest_mode(0100755, 0100644, 0755, true, true), 0100755u);
    EXPECT_EQ(dest_mode(0100644, 0100755, 0755, true, true), 0100644u);
}

// Verifies upstream's same_time with and without a modify window.
TEST(PushAttrs, SameTime)
{
    EXPECT_TRUE(same_time(100, 1, 100, 2, 0));
    EXPECT_FALSE(same_time(100, 1, 100, 2, -1));
    EXPECT_TRUE(same_time(100, 0, 102, 0, 2));
    EXPECT_FALSE(same_time(100, 0, 103, 0, 2));
}

} // namespace
} // namespace ocr::transfer
