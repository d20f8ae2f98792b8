// SPDX-License-Identifier: MIT
// Tests for the "max connections" slot table: slots belong to lock files, not modules.
#include "daemon/connection_slots.hpp"

#include <gtest/gtest.h>

using namespace ocr::daemon;

// Verifies that claims take the lowest free slot and stop at the limit.
TEST(ConnectionSlots, LowestFreeSlotUpToTheLimit)
{
    ConnectionSlots slots;
    const auto a = slots.claim("/run/a.lock", 2);
    const auto b = slots.claim("/run/a.lock", 2);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->index, 0);
    EXPECT_EQ(b->index, 1);
    EXPECT_FALSE(slots.claim("/run/a.lock", 2));
    slots.release(*a);
    const auto again = slots.claim("/run/a.lock", 2);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->index, 0);
    EXPECT_EQ(slots.held("/run/a.lock"), 2U);
}

// Verifies upstream's record-lock semantics for modules sharing a lock file: a module
// whose limit is 1 only looks at slot 0, which a connection to another module holds.
TEST(ConnectionSlots, ModulesSharingALockFileShareItsSlots)
{
    ConnectionSlots slots;
    const auto first = slots.claim("/run/shared.lock", 2); // module with limit 2
    ASSERT_TRUE(first);
    EXPECT_FALSE(slots.claim("/run/shared.lock", 1)); // module with limit 1
    const auto second = slots.claim("/run/shared.lock", 2);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->index, 1);
    slots.release(*first);
    EXPECT_TRUE(slots.claim("/run/shared.lock", 1));
}

// Verifies that different lock files keep separate slots.
TEST(ConnectionSlots, SeparateLockFilesAreIndependent)
{
    ConnectionSlots slots;
    ASSERT_TRUE(slots.claim("/run/one.lock", 1));
    EXPECT_TRUE(slots.claim("/run/two.lock", 1));
    EXPECT_FALSE(slots.claim("/run/one.lock", 1));
}

// Verifies that a limit below 1 never grants a slot and leaves nothing behind, and that
// releasing an unknown slot is harmless.
TEST(ConnectionSlots, NonPositiveLimitAndUnknownRelease)
{
    ConnectionSlots slots;
    EXPECT_FALSE(slots.claim("/run/x.lock", 0));
    EXPECT_FALSE(slots.claim("/run/x.lock", -1));
    EXPECT_EQ(slots.held("/run/x.lock"), 0U);
    slots.release(ConnectionSlot{"/run/nothing.lock", 3});
    EXPECT_EQ(slots.held("/run/nothing.lock"), 0U);
}
