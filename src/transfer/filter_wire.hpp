// SPDX-License-Identifier: MIT
// Receiving the client's filter list from the wire (upstream exclude.c:recv_filter_list).
#pragma once

#include "protocol/byte_stream.hpp"
#include "transfer/filter_set.hpp"

#include <cstddef>

namespace ocr::transfer {

/// Upstream BIGPATHBUFLEN: a wire rule must be shorter than this.
inline constexpr std::size_t kMaxWireRuleLen = 5120;

/// @brief The client's options that decide whether and how the list is read.
struct WireFilterParams {
    bool prune_empty_dirs = false; ///< -m
    bool delete_mode = false;      ///< any --delete* option
    bool cvs_exclude = false;      ///< -C
};

/// @brief Whether a stock client sends a filter list to this server: always to a sender,
///        to a receiver only with -m, or with --delete* unless --delete-excluded below
///        protocol 29.
/// @param options The set's options (role, protocol, delete_excluded).
/// @param params The client's options.
/// @return True when recv_filter_list() reads from the stream.
[[nodiscard]] bool client_sends_filter_list(const FilterOptions& options,
                                            const WireFilterParams& params) noexcept;

/// @brief Reads the client's rules (int32 length + text, ended by a 0 length) into the client
///        list and then adds the -C rules, as upstream's server does.
///
/// Protocol < 29 rules only know the "- ", "+ " and "!" prefixes. A negative or too long
/// length (>= 5120) ends the session like upstream ("buffer overflow: recv_rules", exit 22);
/// more than FilterLimits::max_wire_rules rules or max_wire_bytes bytes of text too.
/// @param in The client's data stream (demultiplexed).
/// @param set The session's filter set (option rules already added).
/// @param params The client's options.
/// @throw FilterError for a bad rule (exit 1), an unreadable merge file named by a rule
///        (exit 11) or a bound being exceeded; ProtocolError when the stream ends.
void recv_filter_list(protocol::ByteSource& in, FilterSet& set, const WireFilterParams& params);

} // namespace ocr::transfer
