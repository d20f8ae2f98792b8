// SPDX-License-Identifier: MIT
// Tests of the ITEM_* flag computation and the 11-character "%i" itemize string.
#include "transfer/itemize.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace ocr::transfer {
namespace {

ItemizeView view(std::uint32_t iflags, std::uint32_t mode, bool sending = false)
{
    ItemizeView v;
    v.iflags = iflags;
    v.mode = mode;
    v.sending = sending;
    v.preserve_mtimes = true;
    v.receiver_symlink_times = true;
    return v;
}

// Verifies the strings rsync 3.5.0 printed for new entries of every type (a daemon sending
// shows '<', a receiver '>', entries created without data 'c', a hard link 'h').
TEST(ItemizeTest, NewEntriesOfEachType)
{
    EXPECT_EQ(itemize_string(view(kItemTransfer | kItemIsNew, S_IFREG | 0644, true)), "<f+++++++++");
    EXPECT_EQ(itemize_string(view(kItemTransfer | kItemIsNew, S_IFREG | 0644)), ">f+++++++++");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemIsNew, S_IFDIR | 0755)), "cd+++++++++");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemIsNew, S_IFLNK | 0777)), "cL+++++++++");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemIsNew, S_IFIFO | 0644)), "cS+++++++++");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemIsNew, S_IFSOCK | 0644)), "cS+++++++++");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemIsNew, S_IFCHR | 0644)), "cD+++++++++");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemIsNew, S_IFBLK | 0644)), "cD+++++++++");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemXnameFollows | kItemIsNew, S_IFREG | 0644)),
              "hf+++++++++");
}

// Verifies that a local copy (one rsync process pair) prints '>' even for the sender.
TEST(ItemizeTest, LocalServerNeverShowsLessThan)
{
    ItemizeView v = view(kItemTransfer | kItemIsNew, S_IFREG | 0644, true);
    v.local_server = true;
    EXPECT_EQ(itemize_string(v), ">f+++++++++");
}

// Verifies the attribute columns seen from rsync 3.5.0: size, time, perms, owner, group,
// atime and the combined u/n/b column.
TEST(ItemizeTest, AttributeColumns)
{
    EXPECT_EQ(itemize_string(view(kItemTransfer | kItemReportSize, S_IFREG | 0644)), ">f.s.......");
    EXPECT_EQ(itemize_string(view(kItemTransfer | kItemReportTime, S_IFREG | 0644)), ">f..t......");
    EXPECT_EQ(itemize_string(view(kItemReportPerms, S_IFREG | 0644)), ".f...p.....");
    EXPECT_EQ(itemize_string(view(kItemReportOwner | kItemReportGroup, S_IFREG | 0644)), ".f....og...");
    EXPECT_EQ(itemize_string(view(kItemReportAtime, S_IFREG | 0644)), ".f......u..");
    EXPECT_EQ(itemize_string(view(kItemReportCrtime, S_IFREG | 0644)), ".f......n..");
    EXPECT_EQ(itemize_string(view(kItemReportAtime | kItemReportCrtime, S_IFREG | 0644)), ".f......b..");
    EXPECT_EQ(itemize_string(view(kItemReportAcl | kItemReportXattr | kItemReportChange, S_IFREG)),
              ".fc......ax");
    EXPECT_EQ(itemize_string(view(kItemReportTime, S_IFDIR | 0755)), ".d..t......");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemXnameFollows | kItemReportSize, S_IFREG)),
              "hf.s.......");
}

// Verifies that without -t a changed time shows 'T', and that symlink times show 'T' when
// the receiver cannot set them or setting them failed; a symlink never shows 's'.
TEST(ItemizeTest, TimeColumnVariants)
{
    ItemizeView v = view(kItemTransfer | kItemReportSize | kItemReportTime, S_IFREG | 0644);
    v.preserve_mtimes = false;
    EXPECT_EQ(itemize_string(v), ">f.sT......");

    EXPECT_EQ(itemize_string(view(kItemReportTime, S_IFLNK | 0777)), ".L..t......");
    ItemizeView l = view(kItemReportTime, S_IFLNK | 0777);
    l.receiver_symlink_times = false;
    EXPECT_EQ(itemize_string(l), ".L..T......");
    EXPECT_EQ(itemize_string(view(kItemLocalChange | kItemReportTime | kItemReportTimefail, S_IFLNK | 0777)),
              "cL..T......");
}

// Verifies that unchanged '.', 'c' and 'h' entries print blanks (as rsync -ii shows them) but
// a transfer without changes keeps its dots.
TEST(ItemizeTest, UnchangedEntriesAreBlank)
{
    EXPECT_EQ(itemize_string(view(0, S_IFDIR | 0755)), ".d         ");
    EXPECT_EQ(itemize_string(view(0, S_IFLNK | 0777)), ".L         ");
    EXPECT_EQ(itemize_string(view(kItemLocalChange, S_IFREG | 0644)), "cf         ");
    EXPECT_EQ(itemize_string(view(kItemTransfer, S_IFREG | 0644)), ">f.........");
}

// Verifies the deletion text and what an old (protocol 28) peer's implied flags print.
TEST(ItemizeTest, DeletionAndOldProtocol)
{
    EXPECT_EQ(itemize_string(view(kItemDeleted, S_IFDIR | 0755)), "*deleting  ");
    EXPECT_EQ(implied_item_flags(28), kItemTransfer | kItemMissingData);
    EXPECT_EQ(implied_item_flags(29), 0u);
    EXPECT_EQ(itemize_string(view(implied_item_flags(28), S_IFREG | 0644)), ">f?????????");
}

// Verifies the protocol-29 keep-alive recognition and the symlink time-failure flags.
TEST(ItemizeTest, ProtocolHelpers)
{
    EXPECT_TRUE(is_item_keepalive(29, 10, 10, kItemIsNew));
    EXPECT_FALSE(is_item_keepalive(30, 10, 10, kItemIsNew));
    EXPECT_FALSE(is_item_keepalive(29, 9, 10, kItemIsNew));
    EXPECT_FALSE(is_item_keepalive(29, 10, 10, kItemIsNew | kItemTransfer));
    EXPECT_EQ(symlink_timeset_failed_flags(29, true), kItemReportTime);
    EXPECT_EQ(symlink_timeset_failed_flags(30, true), kItemReportTime | kItemReportTimefail);
    EXPECT_EQ(symlink_timeset_failed_flags(29, false), kItemReportTime | kItemReportTimefail);
}

// Verifies the generator's flag computation for new, grown and re-permissioned files.
TEST(ItemizeTest, ComputeFlags)
{
    ItemizeCompare c;
    c.iflags = kItemTransfer;
    c.file_mode = S_IFREG | 0644;
    EXPECT_EQ(compute_item_flags(c), kItemTransfer | kItemIsNew);

    c.dest_exists = true;
    c.dest_mode = S_IFREG | 0600;
    c.file_length = 10;
    c.dest_size = 4;
    c.preserve_mtimes = true;
    c.mtime_differs = true;
    c.preserve_perms = true;
    EXPECT_EQ(compute_item_flags(c), kItemTransfer | kItemReportSize | kItemReportTime | kItemReportPerms);

    // Without -t a transferred file reports a time change unless it matched.
    c.preserve_mtimes = false;
    c.mtime_differs = false;
    c.preserve_perms = false;
    EXPECT_EQ(compute_item_flags(c), kItemTransfer | kItemReportSize | kItemReportTime);
    c.iflags |= kItemMatched;
    EXPECT_EQ(compute_item_flags(c), kItemTransfer | kItemReportSize);
}

// Verifies that -E only reports an executability change and that -O keeps directory times quiet.
TEST(ItemizeTest, ComputeFlagsExecutabilityAndDirTimes)
{
    ItemizeCompare c;
    c.dest_exists = true;
    c.file_mode = S_IFREG | 0755;
    c.dest_mode = S_IFREG | 0700;
    c.file_length = c.dest_size = 1;
    c.preserve_executability = true;
    EXPECT_EQ(compute_item_flags(c), 0u);
    c.dest_mode = S_IFREG | 0600;
    EXPECT_EQ(compute_item_flags(c), kItemReportPerms);

    ItemizeCompare d;
    d.dest_exists = true;
    d.file_mode = d.dest_mode = S_IFDIR | 0755;
    d.preserve_mtimes = true;
    d.omit_dir_times = true;
    d.mtime_differs = true;
    EXPECT_EQ(compute_item_flags(d), 0u);
    d.omit_dir_times = false;
    EXPECT_EQ(compute_item_flags(d), kItemReportTime);
}

// Verifies the decisions to send an itemized entry and to log an untransferred one.
TEST(ItemizeTest, ReportAndLogDecisions)
{
    EXPECT_FALSE(item_is_reported(kItemLocalChange, 0, 0, false));
    EXPECT_TRUE(item_is_reported(kItemReportTime, 0, 0, false));
    EXPECT_TRUE(item_is_reported(0, 2, 0, false));
    EXPECT_TRUE(item_is_reported(0, 0, 2, false));
    EXPECT_TRUE(item_is_reported(0, 0, 0, true));

    EXPECT_TRUE(server_logs_untransferred_item(kItemReportPerms, true, false, 0, 0, false, true));
    EXPECT_FALSE(server_logs_untransferred_item(kItemReportPerms, true, false, 0, 0, true, true));
    EXPECT_FALSE(server_logs_untransferred_item(kItemReportPerms, false, false, 0, 0, false, false));
    EXPECT_FALSE(server_logs_untransferred_item(kItemLocalChange, true, false, 0, 0, false, true));
    EXPECT_TRUE(server_logs_untransferred_item(kItemLocalChange, true, true, 0, 0, false, true));
}

} // namespace
} // namespace ocr::transfer
