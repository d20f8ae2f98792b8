// SPDX-License-Identifier: MIT
// Tests for the "max connections" slot table: slots belong to lock files, not modules.
#include "daemon/connection_slots.hpp"

#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>

using namespace ocr::daemon;

// Verifies that claims take the lowest free slot and stop at the limit.
TEST(ConnectionSlots, LowestFreeSlotUpToTheLimit)
{
    ConnectionSlots slots;
    const auto a = slots.claim("/run/a.lock", 2).slot;
    const auto b = slots.claim("/run/a.lock", 2).slot;
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->index, 0);
    EXPECT_EQ(b->index, 1);
    EXPECT_FALSE(slots.claim("/run/a.lock", 2).slot);
    slots.release(*a);
    const auto again = slots.claim("/run/a.lock", 2).slot;
    ASSERT_TRUE(again);
    EXPECT_EQ(again->index, 0);
    EXPECT_EQ(slots.held("/run/a.lock"), 2U);
}

// Verifies upstream's record-lock semantics for modules sharing a lock file: a module
// whose limit is 1 only looks at slot 0, which a connection to another module holds.
TEST(ConnectionSlots, ModulesSharingALockFileShareItsSlots)
{
    ConnectionSlots slots;
    const auto first = slots.claim("/run/shared.lock", 2).slot; // module with limit 2
    ASSERT_TRUE(first);
    EXPECT_FALSE(slots.claim("/run/shared.lock", 1).slot); // module with limit 1
    const auto second = slots.claim("/run/shared.lock", 2).slot;
    ASSERT_TRUE(second);
    EXPECT_EQ(second->index, 1);
    slots.release(*first);
    EXPECT_TRUE(slots.claim("/run/shared.lock", 1).slot);
}

// Verifies that different lock files keep separate slots.
TEST(ConnectionSlots, SeparateLockFilesAreIndependent)
{
    ConnectionSlots slots;
    ASSERT_TRUE(slots.claim("/run/one.lock", 1).slot);
    EXPECT_TRUE(slots.claim("/run/two.lock", 1).slot);
    EXPECT_FALSE(slots.claim("/run/one.lock", 1).slot);
}

// Verifies that a limit below 1 never grants a slot and leaves nothing behind, and that
// releasing an unknown slot is harmless.
TEST(ConnectionSlots, NonPositiveLimitAndUnknownRelease)
{
    ConnectionSlots slots;
    EXPECT_FALSE(slots.claim("/run/x.lock", 0).slot);
    EXPECT_FALSE(slots.claim("/run/x.lock", -1).slot);
    EXPECT_EQ(slots.held("/run/x.lock"), 0U);
    slots.release(ConnectionSlot{"/run/nothing.lock", 3, nullptr});
    EXPECT_EQ(slots.held("/run/nothing.lock"), 0U);
}

namespace {

// A lock file in a fresh directory (open_lock_files creates it the same way).
struct TempLockFile {
    ocr::test::TempDir dir{"ocr-slots"};
    std::string path = dir.path() + "/rsyncd.lock";
};

// Upstream connection.c:claim_connection in another process (a child, which holds its lock
// while it waits on the pipe): POSIX record locks on slot ranges, as upstream's daemon takes them.
pid_t hold_slot_in_child(const std::string& path, int index, int& release_fd)
{
    int ready[2];
    int release[2];
    if (::pipe(ready) != 0 || ::pipe(release) != 0)
        return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Only the parent's end of "release" may keep it open, or the read below never ends.
        ::close(release[1]);
        ::close(ready[0]);
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = index * 4;
        fl.l_len = 4;
        const char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0) ? 'y' : 'n';
        (void)!::write(ready[1], &ok, 1);
        char byte;
        (void)!::read(release[0], &byte, 1);
        ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    char ok = 'n';
    (void)!::read(ready[0], &ok, 1);
    ::close(ready[0]);
    release_fd = release[1];
    return ok == 'y' ? pid : -1;
}

// Whether another process could take slot @p index right now (F_GETLK as upstream sees it).
bool slot_locked_for_others(const std::string& path, int index)
{
    const int fd = ::open(path.c_str(), O_RDWR);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = index * 4;
    fl.l_len = 4;
    const bool locked = fd >= 0 && ::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    ::close(fd);
    return locked;
}

} // namespace

// Verifies that a claimed slot holds the write lock on its 4-byte range of the lock file,
// where another process (another daemon) sees it, and that releasing gives it back.
TEST(ConnectionSlots, ClaimedSlotLocksItsRange)
{
    TempLockFile lock;
    ConnectionSlots slots;
    LockFileTable table;
    table[lock.path] = LockFile{std::make_shared<const ocr::UniqueFd>(::open(lock.path.c_str(), O_RDWR | O_CREAT, 0600)), 0};
    slots.use_lock_files(std::move(table));
    const auto a = slots.claim(lock.path, 3).slot;
    const auto b = slots.claim(lock.path, 3).slot;
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(slot_locked_for_others(lock.path, 0));
    EXPECT_TRUE(slot_locked_for_others(lock.path, 1));
    EXPECT_FALSE(slot_locked_for_others(lock.path, 2));
    slots.release(*a);
    EXPECT_FALSE(slot_locked_for_others(lock.path, 0));
    EXPECT_TRUE(slot_locked_for_others(lock.path, 1));
}

// Verifies that a range another process holds (as upstream's daemon does while it serves a
// connection) is skipped, so that daemons sharing a lock file share its slots.
TEST(ConnectionSlots, RangeHeldByAnotherDaemonIsSkipped)
{
    TempLockFile lock;
    int release_child = -1;
    const pid_t child = hold_slot_in_child(lock.path, 0, release_child);
    ASSERT_GT(child, 0);
    ConnectionSlots slots;
    LockFileTable table;
    table[lock.path] = LockFile{std::make_shared<const ocr::UniqueFd>(::open(lock.path.c_str(), O_RDWR | O_CREAT, 0600)), 0};
    slots.use_lock_files(std::move(table));
    EXPECT_FALSE(slots.claim(lock.path, 1).slot);
    const auto second = slots.claim(lock.path, 2).slot;
    ASSERT_TRUE(second);
    EXPECT_EQ(second->index, 1);
    ::close(release_child);
    int status = 0;
    ::waitpid(child, &status, 0);
    const auto first = slots.claim(lock.path, 1).slot;
    ASSERT_TRUE(first);
    EXPECT_EQ(first->index, 0);
}

// Verifies that a lock file that could not be opened refuses every claim with its errno,
// and that open_lock_files keeps such a path with the errno open() gave.
TEST(ConnectionSlots, UnopenedLockFileRefusesWithItsErrno)
{
    ConnectionSlots slots;
    LockFileTable table;
    table["/nonexistent/dir/x.lock"] = LockFile{nullptr, ENOENT};
    slots.use_lock_files(std::move(table));
    const SlotClaim c = slots.claim("/nonexistent/dir/x.lock", 5);
    EXPECT_FALSE(c.slot);
    EXPECT_EQ(c.open_errno, ENOENT);
    EXPECT_EQ(slots.held("/nonexistent/dir/x.lock"), 0U);
    // Files outside the table are still counted in memory.
    EXPECT_TRUE(slots.claim("/run/other.lock", 1).slot);
}
