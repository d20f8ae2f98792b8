// SPDX-License-Identifier: MIT
// The generator's hard-link bookkeeping for -H (upstream hlink.c: match_gnums' chains from
// the last member of a group back to the first, the prior_hlinks table of incremental
// lists, and the FIRST / LAST / DONE / FILE_SENT / SKIP flags).
#pragma once

#include "protocol/flist_decoder.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <variant>

namespace ocr::transfer {

/// @brief Per-entry hard-link state, keyed by file index.
struct HardLinkState {
    std::int32_t gnum = -1; ///< the group (upstream F_HL_GNUM)
    std::int32_t prev = -1; ///< upstream F_HL_PREV: the previous member, a waiter, or the leader
    bool first = false;     ///< FLAG_HLINK_FIRST
    bool last = false;      ///< FLAG_HLINK_LAST
    bool done = false;      ///< FLAG_HLINK_DONE
    bool sent = false;      ///< FLAG_FILE_SENT
    bool skip = false;      ///< FLAG_SKIP_HLINK
};

/// @brief The groups of the lists seen so far.
class HardLinkTable {
public:
    /// @brief Chains the hard-linked entries of a list (upstream match_hard_links). Lists
    ///        must be matched in arrival order.
    /// @param list a received list (entries in sorted order, index = ndx_start + position).
    /// @param inc_recurse groups may continue in later lists (upstream prior_hlinks).
    /// @throw ProtocolError when a new group names a first member before this list.
    void match_list(const protocol::DecodedList& list, bool inc_recurse);

    /// @brief The state of a hard-linked entry, or nullptr for any other.
    /// @param ndx a file index.
    /// @return a pointer that stays valid: entries are never erased.
    [[nodiscard]] HardLinkState* find(std::int32_t ndx);

    /// @brief What an incremental group left behind: the index of its pending last member,
    ///        or the name of the file it was completed with.
    using Prior = std::variant<std::int32_t, std::string>;
    /// @brief The group's entry in upstream's prior_hlinks, or nullptr (incremental lists).
    /// @param gnum the group number.
    [[nodiscard]] Prior* prior(std::int32_t gnum);

private:
    std::unordered_map<std::int32_t, HardLinkState> states_;
    std::unordered_map<std::int32_t, Prior> prior_;
};

} // namespace ocr::transfer
