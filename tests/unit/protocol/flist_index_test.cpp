// SPDX-License-Identifier: MIT
#include "protocol/flist_index.hpp"

#include "protocol/protocol_error.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace ocr::protocol {
namespace {

// Verifies that an index maps to the list that owns it, with start-1 standing for the list's
// parent directory, across contiguous incremental lists.
TEST(FlistIndex, FindsOwningList)
{
    FlistIndex idx;
    idx.add({1, 4, -1}); // owns 0..4
    idx.add({6, 2, 1});  // owns 5..7
    idx.add({9, 0, 2});  // owns 8
    EXPECT_EQ(idx.find(0)->list, 0u);
    EXPECT_EQ(idx.find(0)->offset, -1);
    EXPECT_EQ(idx.find(4)->offset, 3);
    EXPECT_EQ(idx.find(5)->list, 1u);
    EXPECT_EQ(idx.find(5)->offset, -1);
    EXPECT_EQ(idx.find(7)->offset, 1);
    EXPECT_EQ(idx.find(8)->list, 2u);
    EXPECT_EQ(idx.find(8)->offset, -1);
    EXPECT_FALSE(idx.find(9));
    EXPECT_FALSE(idx.find(-1));
}

// Verifies that retired lists no longer resolve and that upstream's error names the range
// still live.
TEST(FlistIndex, RetiredListsAndErrorText)
{
    FlistIndex idx;
    idx.add({1, 4, -1});
    idx.add({6, 2, 1});
    idx.retire_oldest();
    EXPECT_FALSE(idx.find(3));
    EXPECT_EQ(idx.resolve(6, "send_files", "sender").offset, 0);
    try {
        (void)idx.resolve(3, "send_files", "sender");
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Protocol);
        EXPECT_STREQ(e.what(), "File-list index 3 not in 5 - 7 (send_files) [sender]");
    }
    idx.retire_oldest();
    EXPECT_THROW(idx.retire_oldest(), std::logic_error);
    try {
        (void)idx.resolve(0, "x", "receiver");
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "File-list index 0 not in 0 - -1 (x) [receiver]");
    }
    // A later list must still follow the last one ever added.
    EXPECT_THROW(idx.add({10, 1, 0}), std::invalid_argument);
    idx.add({9, 0, 0});
    EXPECT_EQ(idx.find(8)->offset, -1);
}

// Verifies the single list of a non-incremental transfer, which starts at 0.
TEST(FlistIndex, PlainTransfer)
{
    FlistIndex idx;
    idx.add({0, 3, -1});
    EXPECT_EQ(idx.find(0)->offset, 0);
    EXPECT_EQ(idx.find(2)->offset, 2);
    EXPECT_FALSE(idx.find(3));
    EXPECT_THROW(idx.add({-1, 0, -1}), std::invalid_argument);
}

} // namespace
} // namespace ocr::protocol
