// SPDX-License-Identifier: MIT
// The order both ends put a file list in before referring to entries by index
// (upstream flist.c:f_name_cmp, fsort, flist_sort_and_clean).
#pragma once

#include "protocol/flist_entry.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ocr::protocol {

/// @brief Which end is sorting: only the receiver drops duplicates.
enum class FlistSide { Sender, Receiver };

/// @brief Compares two names as upstream's f_name_cmp does.
///
/// Protocol 29+: bytes compare unsigned, a directory compares as if its name ended in '/'
/// so it sorts right before its contents, non-directories sort before directories at the
/// same level, and a directory named "." sorts before everything. Below 29 names compare
/// as plain strings.
/// @return negative, zero or positive like strcmp.
[[nodiscard]] int compare_names(std::string_view a, bool a_is_dir, std::string_view b,
                                bool b_is_dir, int protocol) noexcept;

/// @brief compare_names on two entries; an inactive entry sorts before every active one.
[[nodiscard]] int compare_entries(const FileEntry& a, const FileEntry& b, int protocol) noexcept;

/// @brief What sorting left behind.
struct SortResult {
    /// order[i] = the position entry i had before sorting (received/sent order).
    std::vector<std::size_t> order;
    /// First and last index of an active entry (upstream flist->low/high); high < low when
    /// the list is empty.
    std::size_t low = 0;
    std::int64_t high = -1;
};

/// @brief Sorts a list in place, stably, and handles duplicate names as upstream's
///        flist_sort_and_clean does.
///
/// A receiver (and a sender with incremental recursion) walks the sorted list: of two
/// entries with the same name it keeps the directory, or else the first; on the receiver
/// the other one is marked inactive (its slot, and so every index, stays), and the kept
/// directory takes over the other's top-dir/content-dir flags. A sender marks a repeated
/// directory as duplicate instead. A sender without incremental recursion only sorts.
/// @param strip_root drop leading slashes from the directory part of names after sorting
///        (the receiver does this for -R).
[[nodiscard]] SortResult sort_file_list(std::vector<FileEntry>& list, int protocol, FlistSide side,
                                        bool inc_recurse, bool strip_root);

} // namespace ocr::protocol
