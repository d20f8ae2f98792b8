// SPDX-License-Identifier: MIT
// Which file list an index belongs to (upstream flist.c:flist_new numbering and
// rsync.c:flist_for_ndx): each list covers its entries plus, just below its first
// index, a slot that stands for the directory the list fills in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

namespace ocr::protocol {

/// @brief The index ranges of a session's live file lists.
///
/// Lists are added in the order they are sent or received and retired oldest first, as
/// both ends free them once every entry is done. A list starting at S with N entries owns
/// S-1 (its parent directory, offset -1) through S+N-1; the next list starts at S+N+1.
class FlistIndex {
public:
    /// @brief A list's place in the index space.
    struct Span {
        std::int32_t ndx_start = 0;
        std::int32_t count = 0;
        std::int32_t parent_dir_ndx = -1; ///< the directory slot S-1 stands for, or -1
    };

    /// @brief Where an index landed.
    struct Hit {
        std::size_t list = 0;    ///< position among the live lists (0 = oldest)
        std::int32_t offset = 0; ///< entry within it; -1 for the list's parent directory
    };

    /// @brief Adds the next list.
    /// @throw std::invalid_argument if it does not start right after the previous one
    ///        (start + count + 1) or has a negative count.
    void add(const Span& span);

    /// @brief Forgets the oldest live list. @throw std::logic_error if there is none.
    void retire_oldest();

    /// @brief Live lists, oldest first.
    [[nodiscard]] const std::deque<Span>& lists() const noexcept { return lists_; }

    /// @brief The list owning @p ndx, or nullopt if no live list does.
    [[nodiscard]] std::optional<Hit> find(std::int32_t ndx) const noexcept;

    /// @brief find(), or upstream's error: "File-list index N not in F - L (where) [who]".
    /// @throw ProtocolError(Protocol) when no live list owns @p ndx.
    [[nodiscard]] Hit resolve(std::int32_t ndx, std::string_view where, std::string_view who) const;

private:
    std::deque<Span> lists_;
    std::optional<Span> last_; ///< the newest list ever added (kept after retiring)
};

} // namespace ocr::protocol
