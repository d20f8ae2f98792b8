// SPDX-License-Identifier: MIT
#include "daemon/connection_slots.hpp"

#include <fcntl.h>

namespace ocr::daemon {
namespace {

// Upstream connection.c: slot i is the 4-byte range at i * 4 (util1.c:lock_range takes a
// write lock without waiting).
bool set_range_lock(int fd, int index, short type)
{
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(index) * 4;
    fl.l_len = 4;
    return ::fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

} // namespace

SlotClaim ConnectionSlots::claim(const std::string& lock_file, int max_connections)
{
    SlotClaim result;
    std::shared_ptr<const UniqueFd> fd;
    if (auto f = files_.find(lock_file); f != files_.end()) {
        if (f->second.open_errno != 0) {
            result.open_errno = f->second.open_errno;
            return result;
        }
        fd = f->second.fd;
    }
    std::set<int>& taken = held_[lock_file];
    for (int i = 0; i < max_connections; ++i) {
        if (taken.contains(i))
            continue;
        // Another process (another daemon sharing the file) may hold this range.
        if (fd && !set_range_lock(fd->get(), i, F_WRLCK))
            continue;
        taken.insert(i);
        result.slot = ConnectionSlot{lock_file, i, fd};
        return result;
    }
    if (taken.empty())
        held_.erase(lock_file);
    return result;
}

void ConnectionSlots::release(const ConnectionSlot& slot)
{
    auto it = held_.find(slot.lock_file);
    if (it == held_.end() || it->second.erase(slot.index) == 0)
        return;
    if (slot.fd)
        (void)set_range_lock(slot.fd->get(), slot.index, F_UNLCK);
    if (it->second.empty())
        held_.erase(it);
}

std::size_t ConnectionSlots::held(const std::string& lock_file) const
{
    auto it = held_.find(lock_file);
    return it == held_.end() ? 0 : it->second.size();
}

} // namespace ocr::daemon
