// SPDX-License-Identifier: MIT
// The block-sum header and the block sums a generator sends before each file (upstream
// io.c:read_sum_head/write_sum_head, sender.c:receive_sums), with upstream 3.5.0's checks,
// and the block size a generator picks for a file (generator.c:sum_sizes_sqroot).
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/checksum.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::protocol {

/// Largest block length protocol 30+ allows (upstream MAX_BLOCK_SIZE).
inline constexpr std::int32_t kMaxBlockLength = 1 << 17;
/// Largest block length below protocol 30 (upstream OLD_MAX_BLOCK_SIZE).
inline constexpr std::int32_t kOldMaxBlockLength = 1 << 29;
/// Block length for files up to kBlockLength^2 bytes (upstream BLOCK_SIZE).
inline constexpr std::int32_t kBlockLength = 700;
/// The strong-sum length of a first pass (upstream SHORT_SUM_LENGTH, "csum_length").
inline constexpr int kShortSumLength = 2;
/// The strong-sum length of a redo pass (upstream SUM_LENGTH).
inline constexpr int kFullSumLength = 16;
/// --max-alloc when the client sent none (upstream options.c DEFAULT_MAX_ALLOC).
inline constexpr std::size_t kDefaultMaxAlloc = std::size_t{1} << 30;

/// @brief The sum header: how the basis was cut into blocks (upstream struct sum_struct).
///
/// count blocks of blength bytes, the last one remainder bytes long when remainder is
/// not 0; each block carries a weak sum and the first s2length bytes of its strong sum.
/// All zero means "no basis": the whole file goes as literal data.
struct SumHead {
    std::int32_t count = 0;
    std::int32_t blength = 0;
    std::int32_t s2length = 0;
    std::int32_t remainder = 0;

    friend bool operator==(const SumHead&, const SumHead&) = default;

    /// @brief Length of block @p i (remainder for the last block when it is not 0).
    [[nodiscard]] constexpr std::int32_t block_length(std::int32_t i) const noexcept
    {
        return i == count - 1 && remainder != 0 ? remainder : blength;
    }
    /// @brief Length of the basis the header describes (upstream's "flength").
    [[nodiscard]] constexpr std::int64_t file_length() const noexcept
    {
        if (count <= 0)
            return 0;
        const std::int64_t full = static_cast<std::int64_t>(count) * blength;
        return remainder != 0 ? full - (blength - remainder) : full;
    }
};

/// @brief What a decoder checks a sum header against.
struct SumHeadRules {
    int protocol = 32;
    /// The negotiated transfer checksum's digest length (checksum_length()); s2length may
    /// not exceed it.
    std::size_t xfer_sum_len = 16;
    /// Upstream's who_am_i(), shown in the error texts: "sender" when a daemon serves a
    /// pull, "receiver" when it reads a sending client's echo of its own header.
    std::string_view who = "sender";
};

/// @brief Appends the wire form of @p head (s2length only from protocol 27 on).
void put_sum_head(std::string& out, const SumHead& head, int protocol);

/// @brief Reads and checks a sum header as upstream 3.5.0 does (io.c:read_sum_head).
///
/// Checks, in upstream's order and with its texts: count >= 0 ("Invalid checksum count
/// %d [who]"), blength within 0..128 KiB (512 MiB below protocol 30) ("Invalid block
/// length"), blength != 0 when count > 0 ("Invalid zero block length"), 0 <= s2length <=
/// xfer_sum_len ("Invalid checksum length"), 0 <= remainder <= blength ("Invalid remainder
/// length"). Below protocol 27 s2length is not on the wire and is kShortSumLength.
/// @throw ProtocolError (ExitCode::Protocol) with upstream's text on a bad field, or
///        (ExitCode::StreamIo) when the stream ends.
[[nodiscard]] SumHead get_sum_head(ByteSource& in, const SumHeadRules& rules);

/// @brief What bounds the block sums a peer may make us hold.
struct BlockSumLimits {
    /// The session's --max-alloc (kDefaultMaxAlloc unless the client sent one; upstream's
    /// option parser refuses 0, and 0 here refuses every block).
    std::size_t max_alloc = kDefaultMaxAlloc;
    /// Upstream's who_am_i() for the error text.
    std::string_view who = "sender";
};

/// @brief The block sums of one basis file: a checked header plus count weak sums and
///        count strong-sum prefixes of s2length bytes each.
class BlockSums {
public:
    /// @brief No blocks (the all-zero header).
    BlockSums() = default;
    /// @brief Room for the blocks @p head announces, all sums zero.
    /// @throw std::invalid_argument if @p head is not one get_sum_head() could return
    ///        (negative fields, blength 0 with blocks, remainder above blength,
    ///        s2length above kMaxChecksumLength).
    explicit BlockSums(const SumHead& head);

    [[nodiscard]] const SumHead& head() const noexcept { return head_; }
    [[nodiscard]] std::int32_t count() const noexcept { return head_.count; }
    [[nodiscard]] std::uint32_t sum1(std::int32_t i) const noexcept
    {
        return sum1_[static_cast<std::size_t>(i)];
    }
    /// @brief The s2length stored bytes of block @p i's strong sum.
    [[nodiscard]] std::span<const std::uint8_t> sum2(std::int32_t i) const noexcept
    {
        const auto len = static_cast<std::size_t>(head_.s2length);
        return {sum2_.data() + static_cast<std::size_t>(i) * len, len};
    }
    /// @brief All weak sums, block order.
    [[nodiscard]] std::span<const std::uint32_t> all_sum1() const noexcept { return sum1_; }

    /// @brief Sets block @p i's sums; @p sum2 longer than s2length is truncated.
    /// @throw std::out_of_range if @p i is not a block; std::invalid_argument if @p sum2 is
    ///        shorter than s2length.
    void set(std::int32_t i, std::uint32_t sum1, std::span<const std::uint8_t> sum2);

private:
    friend BlockSums get_block_sums(ByteSource& in, const SumHead& head, const BlockSumLimits& limits);

    SumHead head_;
    std::vector<std::uint32_t> sum1_;
    std::vector<std::uint8_t> sum2_;
};

/// @brief Reads the count block sums that follow @p head (upstream sender.c:receive_sums).
///
/// The allocation limit is upstream's: its per-block record is 24 bytes, and a count of
/// max_alloc / 24 blocks or more fails as its allocator fails, with "[who] exceeded
/// --max-alloc=N setting (file=sender.c, line=363)" and ExitCode::Malloc, before
/// anything is read. Ours needs less memory per block, but peers see the same limit.
/// Memory grows with the sums actually received, so a header alone cannot make us
/// allocate for a count it never delivers.
/// @param head a header from get_sum_head() (so already checked).
/// @throw ProtocolError (Malloc) past the limit, (StreamIo) when the stream ends;
///        std::invalid_argument if @p head is not a valid header.
[[nodiscard]] BlockSums get_block_sums(ByteSource& in, const SumHead& head, const BlockSumLimits& limits);

/// @brief Appends @p sums' header and its blocks (what a generator sends).
void put_block_sums(std::string& out, const BlockSums& sums, int protocol);

/// @brief Computes the block sums of @p basis for @p head (a generator's job; the file
///        is normally read block by block, this is for bases held in memory).
/// @param head describes @p basis: head.file_length() == basis.size().
/// @param strong the session's block checksum; its length must be >= head.s2length.
/// @throw std::invalid_argument if @p head does not describe @p basis; as
///        BlockChecksum::compute otherwise.
[[nodiscard]] BlockSums compute_block_sums(std::span<const std::uint8_t> basis, const SumHead& head,
                                           BlockChecksum& strong);

/// @brief The inputs of a generator's block-size choice.
struct SumSizesInputs {
    std::int64_t file_length = 0;
    /// --block-size, or 0 to pick one from the length.
    std::int32_t block_size = 0;
    int protocol = 32;
    /// The negotiated transfer checksum's digest length.
    std::size_t xfer_sum_len = 16;
    /// kShortSumLength on a first pass, kFullSumLength when redoing a file.
    int csum_length = kShortSumLength;
};

/// @brief The sum header a generator sends for a basis (upstream
///        generator.c:sum_sizes_sqroot): block length about the square root of the file
///        length (at least 700, a multiple of 8, at most the protocol's maximum), a strong
///        sum length that grows with the file, count and remainder.
/// @return nullopt when upstream gives up on the file: a negative length, or more blocks
///         than an int32 holds (it then marks count -1).
[[nodiscard]] std::optional<SumHead> sum_sizes_sqroot(const SumSizesInputs& in) noexcept;

} // namespace ocr::protocol
