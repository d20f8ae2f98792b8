// SPDX-License-Identifier: MIT
// The generator's hard-link bookkeeping for -H (upstream hlink.c: match_gnums' chains from
// the last member of a group back to the first, the prior_hlinks table of incremental
// lists, and the FIRST / LAST / DONE / FILE_SENT / SKIP flags).
#pragma once

#include "protocol/flist_decoder.hpp"

#include <cstdint>
#include <optional>
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
    /// @param ndx_start the list's first index.
    /// @throw ProtocolError when a group refers to a member before the first list.
    void match_list(const protocol::DecodedList& list, bool inc_recurse);

    /// @brief The state of a hard-linked entry, or nullptr for any other.
    [[nodiscard]] HardLinkState* find(std::int32_t ndx);

    /// @brief What an incremental group left behind: the index of its pending last member,
    ///        or the name of the file it was completed with.
    using Prior = std::variant<std::int32_t, std::string>;
    [[nodiscard]] Prior* prior(std::int32_t gnum);

private:
    std::unordered_map<std::int32_t, HardLinkState> states_;
    std::unordered_map<std::int32_t, Prior> prior_;
};

} // namespace ocr::transfer
