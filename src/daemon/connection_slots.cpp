// SPDX-License-Identifier: MIT
#include "daemon/connection_slots.hpp"

namespace ocr::daemon {

std::optional<ConnectionSlot> ConnectionSlots::claim(const std::string& lock_file, int max_connections)
{
    std::set<int>& taken = held_[lock_file];
    for (int i = 0; i < max_connections; ++i) {
        if (taken.insert(i).second)
            return ConnectionSlot{lock_file, i};
    }
    if (taken.empty())
        held_.erase(lock_file);
    return std::nullopt;
}

void ConnectionSlots::release(const ConnectionSlot& slot)
{
    auto it = held_.find(slot.lock_file);
    if (it == held_.end())
        return;
    it->second.erase(slot.index);
    if (it->second.empty())
        held_.erase(it);
}

std::size_t ConnectionSlots::held(const std::string& lock_file) const
{
    auto it = held_.find(lock_file);
    return it == held_.end() ? 0 : it->second.size();
}

} // namespace ocr::daemon
