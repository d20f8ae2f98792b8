// SPDX-License-Identifier: MIT
// Index-to-list lookups over the contiguous ranges upstream's flist_new hands out.
#include "protocol/flist_index.hpp"

#include "protocol/protocol_error.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ocr::protocol {

void FlistIndex::add(const Span& span)
{
    if (span.count < 0 || span.ndx_start < 0)
        throw std::invalid_argument("file list with a negative start or count");
    if (last_ && std::int64_t{span.ndx_start} != std::int64_t{last_->ndx_start} + last_->count + 1)
        throw std::invalid_argument("file list does not follow the previous one");
    lists_.push_back(span);
    last_ = span;
}

void FlistIndex::retire_oldest()
{
    if (lists_.empty())
        throw std::logic_error("no file list to retire");
    lists_.pop_front();
}

std::optional<FlistIndex::Hit> FlistIndex::find(std::int32_t ndx) const noexcept
{
    // Ranges [start - 1, start + count) are contiguous and ascending: binary search on
    // the last list whose range begins at or below ndx.
    const auto it = std::upper_bound(
        lists_.begin(), lists_.end(), std::int64_t{ndx},
        [](std::int64_t v, const Span& s) { return v < std::int64_t{s.ndx_start} - 1; });
    if (it == lists_.begin())
        return std::nullopt;
    const Span& s = *(it - 1);
    if (std::int64_t{ndx} >= std::int64_t{s.ndx_start} + s.count)
        return std::nullopt;
    return Hit{static_cast<std::size_t>(it - 1 - lists_.begin()), ndx - s.ndx_start};
}

FlistIndex::Hit FlistIndex::resolve(std::int32_t ndx, std::string_view where,
                                    std::string_view who) const
{
    if (const auto hit = find(ndx))
        return *hit;
    std::int64_t first = 0;
    std::int64_t last = -1;
    if (!lists_.empty()) {
        first = std::int64_t{lists_.front().ndx_start} - 1;
        last = std::int64_t{lists_.back().ndx_start} + lists_.back().count - 1;
    }
    throw ProtocolError(ExitCode::Protocol, "File-list index " + std::to_string(ndx) + " not in " +
                                                std::to_string(first) + " - " +
                                                std::to_string(last) + " (" + std::string(where) +
                                                ") [" + std::string(who) + "]");
}

} // namespace ocr::protocol
