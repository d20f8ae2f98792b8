// SPDX-License-Identifier: MIT
// Hard-link groups of a push's received lists (upstream hlink.c:match_gnums).
#include "transfer/gen_hlinks.hpp"

#include "protocol/protocol_error.hpp"

#include <algorithm>
#include <vector>

namespace ocr::transfer {

void HardLinkTable::match_list(const protocol::DecodedList& list, bool inc_recurse)
{
    // Members in (group, sorted position) order, as upstream's qsort leaves them.
    std::vector<std::pair<std::int32_t, std::int32_t>> members; // gnum, position
    for (std::size_t i = 0; i < list.entries.size(); ++i) {
        const protocol::FileEntry& e = list.entries[i];
        if (e.active && e.hlink_group >= 0 && !protocol::is_dir(e.mode))
            members.emplace_back(e.hlink_group, static_cast<std::int32_t>(i));
    }
    std::sort(members.begin(), members.end());
    for (std::size_t from = 0; from < members.size();) {
        const std::int32_t gnum = members[from].first;
        std::size_t to = from;
        while (to + 1 < members.size() && members[to + 1].first == gnum)
            ++to;
        std::int32_t prev = -1;
        bool first = true;
        Prior* node = nullptr;
        if (inc_recurse) {
            auto it = prior_.find(gnum);
            if (it == prior_.end()) {
                if (gnum < list.ndx_start)
                    throw protocol::ProtocolError(protocol::ExitCode::Protocol,
                                                  "hard-link gnum " + std::to_string(gnum) +
                                                      " precedes flist start " + std::to_string(list.ndx_start),
                                                  protocol::UpstreamSite{"hlink.c", 145});
                node = &prior_.emplace(gnum, Prior(std::int32_t{-1})).first->second;
            } else {
                node = &it->second;
                first = false;
                if (const auto* pending = std::get_if<std::int32_t>(node); pending && *pending >= 0) {
                    prev = *pending;
                    if (HardLinkState* p = find(prev))
                        p->last = false;
                }
            }
        } else if (from == to) {
            // A group of one in a complete list is no group at all.
            from = to + 1;
            continue;
        }
        for (std::size_t k = from; k <= to; ++k) {
            const std::int32_t ndx = list.ndx_start + members[k].second;
            HardLinkState& s = states_[ndx];
            s.gnum = gnum;
            s.first = first && k == from;
            s.prev = prev;
            prev = ndx;
        }
        states_[list.ndx_start + members[to].second].last = true;
        if (node && std::holds_alternative<std::int32_t>(*node))
            *node = prev;
        from = to + 1;
    }
}

HardLinkState* HardLinkTable::find(std::int32_t ndx)
{
    const auto it = states_.find(ndx);
    return it == states_.end() ? nullptr : &it->second;
}

HardLinkTable::Prior* HardLinkTable::prior(std::int32_t gnum)
{
    const auto it = prior_.find(gnum);
    return it == prior_.end() ? nullptr : &it->second;
}

} // namespace ocr::transfer
