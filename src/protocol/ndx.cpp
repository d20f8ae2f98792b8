// SPDX-License-Identifier: MIT
// Index encodings. Layout facts from upstream io.c:write_ndx/read_ndx; the range
// checks from rsync.c:read_ndx_and_attrs and flist.c:recv_additional_file_list.
#include "protocol/ndx.hpp"

#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <limits>
#include <stdexcept>

namespace ocr::protocol {
namespace {

// A one-byte delta covers 1..253; 0xFE introduces a longer form and 0xFF a negative value.
constexpr std::int32_t kMaxByteDelta = 0xFD;
constexpr std::int32_t kMaxShortDelta = 0x7FFF;
constexpr std::uint8_t kLongForm = 0xFE;
constexpr std::uint8_t kNegative = 0xFF;

} // namespace

void NdxEncoder::put(std::string& out, std::int32_t ndx)
{
    if (ndx == std::numeric_limits<std::int32_t>::min())
        throw std::invalid_argument("file index has no wire form");
    if (protocol_ < 30) {
        put_i32(out, ndx);
        return;
    }
    // Upstream io.c:write_ndx: NDX_DONE is a lone zero byte that leaves the state alone.
    if (ndx == kNdxDone) {
        put_byte(out, 0);
        return;
    }
    std::int32_t value = ndx;
    std::int32_t delta = 0;
    if (ndx >= 0) {
        delta = static_cast<std::int32_t>(static_cast<std::int64_t>(value) - prev_positive_);
        prev_positive_ = value;
    } else {
        put_byte(out, kNegative);
        value = -ndx;
        delta = static_cast<std::int32_t>(static_cast<std::int64_t>(value) - prev_negative_);
        prev_negative_ = value;
    }
    if (delta > 0 && delta <= kMaxByteDelta) {
        put_byte(out, static_cast<std::uint8_t>(delta));
    } else if (delta < 0 || delta > kMaxShortDelta) {
        // The whole value, high byte first with its top bit as the marker, then the
        // remaining three bytes low to high.
        const auto u = static_cast<std::uint32_t>(value);
        put_byte(out, kLongForm);
        put_byte(out, static_cast<std::uint8_t>((u >> 24) | 0x80));
        put_byte(out, static_cast<std::uint8_t>(u & 0xFF));
        put_byte(out, static_cast<std::uint8_t>((u >> 8) & 0xFF));
        put_byte(out, static_cast<std::uint8_t>((u >> 16) & 0xFF));
    } else {
        put_byte(out, kLongForm);
        put_byte(out, static_cast<std::uint8_t>(delta >> 8));
        put_byte(out, static_cast<std::uint8_t>(delta & 0xFF));
    }
}

std::int32_t NdxDecoder::get(ByteSource& in)
{
    if (protocol_ < 30)
        return get_i32(in);
    std::uint8_t b = get_byte(in);
    std::int32_t* prev = &prev_positive_;
    if (b == kNegative) {
        b = get_byte(in);
        prev = &prev_negative_;
    } else if (b == 0) {
        return kNdxDone;
    }
    std::uint32_t magnitude = 0;
    if (b == kLongForm) {
        const std::uint8_t hi = get_byte(in);
        const std::uint8_t lo = get_byte(in);
        if (hi & 0x80) {
            // Absolute form: hi carries bits 24..30, then bytes 0, 1 (already read) and 2.
            const std::uint8_t b1 = get_byte(in);
            const std::uint8_t b2 = get_byte(in);
            magnitude = lo | (std::uint32_t{b1} << 8) | (std::uint32_t{b2} << 16) |
                        (std::uint32_t{static_cast<std::uint8_t>(hi & 0x7F)} << 24);
        } else {
            magnitude = ((std::uint32_t{hi} << 8) | lo) + static_cast<std::uint32_t>(*prev);
        }
    } else {
        magnitude = b + static_cast<std::uint32_t>(*prev);
    }
    // Upstream io.c:read_ndx refuses anything that would not fit a signed index.
    if (magnitude > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
        throw ProtocolError(ExitCode::Protocol,
                            "Invalid file index: " + std::to_string(magnitude) + " [" + who_ + "]");
    const auto value = static_cast<std::int32_t>(magnitude);
    *prev = value;
    return prev == &prev_negative_ ? -value : value;
}

std::int32_t flist_header_ndx(std::int32_t dir_ndx)
{
    // The header must stay below NDX_FLIST_OFFSET and above INT32_MIN.
    if (dir_ndx < 0 || dir_ndx > std::numeric_limits<std::int32_t>::max() + kNdxFlistOffset)
        throw std::invalid_argument("directory index out of range for a sub-list header");
    return kNdxFlistOffset - dir_ndx;
}

std::int32_t dir_ndx_from_header(std::int32_t ndx, std::size_t dir_count, std::string_view who,
                                 HeaderSite site)
{
    const std::int64_t dir_ndx = std::int64_t{kNdxFlistOffset} - ndx;
    if (dir_ndx >= 0 && static_cast<std::uint64_t>(dir_ndx) < dir_count)
        return static_cast<std::int32_t>(dir_ndx);
    // The text shows the header range still acceptable: OFFSET down to OFFSET - count + 1.
    const std::int64_t lowest =
        std::int64_t{kNdxFlistOffset} - static_cast<std::int64_t>(dir_count) + 1;
    const std::string range = std::to_string(ndx) + " (" + std::to_string(kNdxFlistOffset) + " - " +
                              std::to_string(lowest) + ")";
    if (site == HeaderSite::AdditionalList)
        throw ProtocolError(ExitCode::Protocol,
                            "[" + std::string(who) + "] Invalid dir index: " + range);
    throw ProtocolError(ExitCode::Protocol,
                        "Invalid dir index: " + range + " [" + std::string(who) + "]");
}

} // namespace ocr::protocol
