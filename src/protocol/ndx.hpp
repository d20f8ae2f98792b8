// SPDX-License-Identifier: MIT
// File-list indexes on the wire (upstream io.c write_ndx/read_ndx): the special values,
// the per-direction delta state machines of protocol 30+, and the sub-list header values.
#pragma once

#include "protocol/byte_stream.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ocr::protocol {

/// End of a phase, or of a peer's requests (upstream NDX_DONE).
inline constexpr std::int32_t kNdxDone = -1;
/// The sender has no more incremental file lists (upstream NDX_FLIST_EOF).
inline constexpr std::int32_t kNdxFlistEof = -2;
/// A deletion-statistics record follows (upstream NDX_DEL_STATS, protocol 31+).
inline constexpr std::int32_t kNdxDelStats = -3;
/// Sub-list headers are this value minus the directory's index (upstream NDX_FLIST_OFFSET).
inline constexpr std::int32_t kNdxFlistOffset = -101;

/// @brief Writes indexes as upstream's write_ndx does: int32 below protocol 30, otherwise a
///        delta against the previous value of the same sign, kept separately for this stream.
///
/// One encoder per outgoing stream: the state is shared by everything that stream carries
/// (file requests, replies, sub-list headers), exactly as upstream keeps one static pair.
class NdxEncoder {
public:
    /// @param protocol the session's protocol version.
    explicit NdxEncoder(int protocol) noexcept : protocol_(protocol) {}

    /// @brief Appends the wire form of @p ndx to @p out.
    /// @throw std::invalid_argument for INT32_MIN, which has no wire form.
    void put(std::string& out, std::int32_t ndx);

private:
    int protocol_;
    std::int32_t prev_positive_ = -1;
    std::int32_t prev_negative_ = 1;
};

/// @brief Reads indexes as upstream's read_ndx does, with its own copy of the delta state.
class NdxDecoder {
public:
    /// @param protocol the session's protocol version.
    /// @param who the process name upstream puts in its error text ("sender", "receiver", ...).
    explicit NdxDecoder(int protocol, std::string_view who = "receiver")
        : protocol_(protocol), who_(who)
    {
    }

    /// @brief Reads one index.
    /// @return the index; negative values are the special ones (kNdxDone, ...) or, for
    ///         protocol 30+, any other negative the peer encoded.
    /// @throw ProtocolError(Protocol) "Invalid file index: N [who]" when a decoded magnitude
    ///        exceeds INT32_MAX (upstream rejects it before anyone can use it).
    /// @throw ProtocolError(StreamIo) at the end of the stream.
    [[nodiscard]] std::int32_t get(ByteSource& in);

private:
    int protocol_;
    std::string who_;
    std::int32_t prev_positive_ = -1;
    std::int32_t prev_negative_ = 1;
};

/// @brief The header value announcing the sub-list of directory @p dir_ndx.
/// @throw std::invalid_argument if @p dir_ndx is negative or too large to encode.
[[nodiscard]] std::int32_t flist_header_ndx(std::int32_t dir_ndx);

/// Where a sub-list header was read; upstream words the range error differently in each.
enum class HeaderSite {
    Transfer,       ///< among transfer indexes (upstream rsync.c:read_ndx_and_attrs)
    AdditionalList, ///< right after a one-entry first list (flist.c:recv_additional_file_list)
};

/// @brief Turns a received sub-list header into the directory index it names, checking it
///        against the @p dir_count directories received so far.
/// @param ndx a value below kNdxFlistEof, as read from the peer.
/// @param dir_count how many directories the receiver has recorded.
/// @param who the process name for the error text.
/// @param site where the header was read (selects upstream's wording).
/// @throw ProtocolError(Protocol) "Invalid dir index: N (-101 - M) [who]" (or the
///        "[who] Invalid dir index: ..." form) when the index is out of range.
[[nodiscard]] std::int32_t dir_ndx_from_header(std::int32_t ndx, std::size_t dir_count,
                                               std::string_view who,
                                               HeaderSite site = HeaderSite::Transfer);

} // namespace ocr::protocol
