// SPDX-License-Identifier: MIT
// Sum header and block sums: encoding, upstream 3.5.0's validating decoder, and the
// generator's block-size rule.
#include "protocol/sum_head.hpp"

#include "protocol/checksum_rolling.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace ocr::protocol {
namespace {

[[noreturn]] void reject(const std::string& what, std::string_view who)
{
    throw ProtocolError(ExitCode::Protocol, what + " [" + std::string(who) + "]");
}

/// The fields BlockSums and the decoders rely on; get_sum_head() guarantees them for
/// peer data, this catches a caller that builds a header by hand.
void require_valid(const SumHead& head)
{
    if (head.count < 0 || head.blength < 0 || head.s2length < 0 || head.remainder < 0 ||
        (head.count > 0 && head.blength == 0) || head.remainder > head.blength ||
        static_cast<std::size_t>(head.s2length) > kMaxChecksumLength)
        throw std::invalid_argument("invalid sum header");
}

std::uint32_t load_le32(const std::uint8_t* p) noexcept
{
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

} // namespace

void put_sum_head(std::string& out, const SumHead& head, int protocol)
{
    // Upstream: io.c:write_sum_head.
    put_i32(out, head.count);
    put_i32(out, head.blength);
    if (protocol >= 27)
        put_i32(out, head.s2length);
    put_i32(out, head.remainder);
}

SumHead get_sum_head(ByteSource& in, const SumHeadRules& rules)
{
    // Upstream: io.c:read_sum_head. Each field is checked before the next one is read, so
    // the error a peer sees is the first bad field's. (Its count * element-size overflow
    // checks cannot fire with a 64-bit size_t and a non-negative int32 count.)
    const std::int32_t max_blength = rules.protocol < 30 ? kOldMaxBlockLength : kMaxBlockLength;
    SumHead head;
    head.count = get_i32(in);
    if (head.count < 0)
        reject("Invalid checksum count " + std::to_string(head.count), rules.who);
    head.blength = get_i32(in);
    if (head.blength < 0 || head.blength > max_blength)
        reject("Invalid block length " + std::to_string(head.blength), rules.who);
    if (head.count != 0 && head.blength == 0)
        reject("Invalid zero block length", rules.who);
    head.s2length = rules.protocol < 27 ? kShortSumLength : get_i32(in);
    if (head.s2length < 0 || static_cast<std::size_t>(head.s2length) > rules.xfer_sum_len)
        reject("Invalid checksum length " + std::to_string(head.s2length), rules.who);
    head.remainder = get_i32(in);
    if (head.remainder < 0 || head.remainder > head.blength)
        reject("Invalid remainder length " + std::to_string(head.remainder), rules.who);
    return head;
}

BlockSums::BlockSums(const SumHead& head) : head_(head)
{
    require_valid(head);
    const auto count = static_cast<std::size_t>(head.count);
    sum1_.assign(count, 0);
    sum2_.assign(count * static_cast<std::size_t>(head.s2length), 0);
}

void BlockSums::set(std::int32_t i, std::uint32_t sum1, std::span<const std::uint8_t> sum2)
{
    if (i < 0 || i >= head_.count)
        throw std::out_of_range("block index out of range");
    const auto len = static_cast<std::size_t>(head_.s2length);
    if (sum2.size() < len)
        throw std::invalid_argument("strong sum shorter than s2length");
    sum1_[static_cast<std::size_t>(i)] = sum1;
    std::copy_n(sum2.begin(), len, sum2_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * len));
}

BlockSums get_block_sums(ByteSource& in, const SumHead& head, const BlockSumLimits& limits)
{
    require_valid(head);
    if (head.count == 0)
        return BlockSums(head);
    // Upstream: sender.c:receive_sums allocates count records of its 24-byte struct
    // sum_buf through util2.c:my_alloc, which refuses num >= max_alloc / size.
    constexpr std::size_t kUpstreamRecordSize = 24;
    if (static_cast<std::size_t>(head.count) >= limits.max_alloc / kUpstreamRecordSize)
        throw ProtocolError(ExitCode::Malloc, "[" + std::string(limits.who) + "] exceeded --max-alloc=" +
                                                  std::to_string(limits.max_alloc) +
                                                  " setting (file=sender.c, line=363)");
    BlockSums sums;
    sums.head_ = head;
    const auto s2len = static_cast<std::size_t>(head.s2length);
    const std::size_t record = 4 + s2len;
    // Read many records per call: one virtual read per block would dominate for small
    // blocks. The vectors grow batch by batch (geometrically), never ahead of the data.
    constexpr std::size_t kBatchBytes = 64 * 1024;
    const std::size_t per_batch = kBatchBytes / record;
    std::vector<std::byte> buf(per_batch * record);
    const auto count = static_cast<std::size_t>(head.count);
    for (std::size_t done = 0; done < count;) {
        const std::size_t n = std::min(per_batch, count - done);
        in.read_exact(std::span<std::byte>(buf.data(), n * record));
        sums.sum1_.resize(done + n);
        sums.sum2_.resize((done + n) * s2len);
        const auto* p = reinterpret_cast<const std::uint8_t*>(buf.data());
        for (std::size_t j = 0; j < n; ++j, p += record) {
            sums.sum1_[done + j] = load_le32(p);
            std::copy_n(p + 4, s2len, sums.sum2_.begin() + static_cast<std::ptrdiff_t>((done + j) * s2len));
        }
        done += n;
    }
    return sums;
}

void put_block_sums(std::string& out, const BlockSums& sums, int protocol)
{
    put_sum_head(out, sums.head(), protocol);
    for (std::int32_t i = 0; i < sums.count(); ++i) {
        put_i32(out, static_cast<std::int32_t>(sums.sum1(i)));
        const auto s2 = sums.sum2(i);
        out.append(reinterpret_cast<const char*>(s2.data()), s2.size());
    }
}

BlockSums compute_block_sums(std::span<const std::uint8_t> basis, const SumHead& head, BlockChecksum& strong)
{
    require_valid(head);
    if (head.file_length() != static_cast<std::int64_t>(basis.size()))
        throw std::invalid_argument("sum header does not describe the basis");
    if (static_cast<std::size_t>(head.s2length) > strong.length())
        throw std::invalid_argument("s2length exceeds the block checksum's length");
    BlockSums sums(head);
    std::array<std::uint8_t, kMaxChecksumLength> digest{};
    for (std::int32_t i = 0; i < head.count; ++i) {
        const auto offset = static_cast<std::size_t>(i) * static_cast<std::size_t>(head.blength);
        const auto block = basis.subspan(offset, static_cast<std::size_t>(head.block_length(i)));
        strong.compute(block, digest);
        sums.set(i, rolling_checksum(block), digest);
    }
    return sums;
}

std::optional<SumHead> sum_sizes_sqroot(const SumSizesInputs& in) noexcept
{
    // Upstream: generator.c:sum_sizes_sqroot.
    const std::int64_t len = in.file_length;
    if (len < 0 || in.block_size < 0)
        return std::nullopt;
    const int max_s2length = static_cast<int>(std::min<std::size_t>(kFullSumLength, in.xfer_sum_len));

    std::int32_t blength = 0;
    if (in.block_size != 0) {
        blength = in.block_size;
    } else if (len <= static_cast<std::int64_t>(kBlockLength) * kBlockLength) {
        blength = kBlockLength;
    } else {
        const std::int32_t max_blength = in.protocol < 30 ? kOldMaxBlockLength : kMaxBlockLength;
        // Start from the power of two 2^floor(log4(len)), an upper bound of the square
        // root's top bit, then decide each lower bit down to 8 (keeping a multiple of 8).
        std::int64_t c = 1;
        for (std::int64_t l = len >> 2; l != 0; l >>= 2)
            c <<= 1;
        if (c >= max_blength) {
            blength = max_blength;
        } else {
            std::int64_t b = 0;
            do {
                b |= c;
                if (len < b * b)
                    b &= ~c;
                c >>= 1;
            } while (c >= 8);
            blength = std::max(static_cast<std::int32_t>(b), kBlockLength);
        }
    }

    int s2length = 0;
    if (in.protocol < 27) {
        s2length = in.csum_length;
    } else if (in.csum_length == kFullSumLength) {
        s2length = max_s2length;
    } else {
        // About 10 + 2*log2(len) - log2(blength) bits of strong sum are enough to keep a
        // false block match unlikely for the whole file; the 32 weak bits count too.
        int b = 10;
        for (std::int64_t l = len >> 1; l != 0; l >>= 1)
            b += 2;
        for (std::int32_t c = blength >> 1; c != 0 && b != 0; c >>= 1)
            --b;
        s2length = (b + 1 - 32 + 7) / 8; // truncates toward zero, as C does
        s2length = std::max(s2length, in.csum_length);
        s2length = std::min(s2length, max_s2length);
    }

    SumHead head;
    head.blength = blength;
    head.s2length = s2length;
    head.remainder = static_cast<std::int32_t>(len % blength);
    const std::int64_t count = len / blength + (head.remainder != 0 ? 1 : 0);
    if (count > INT32_MAX)
        return std::nullopt;
    head.count = static_cast<std::int32_t>(count);
    return head;
}

} // namespace ocr::protocol
