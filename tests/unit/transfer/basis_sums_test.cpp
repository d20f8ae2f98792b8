// SPDX-License-Identifier: MIT
// Tests of the generator's sum header choice and block-sum writer.
#include "transfer/basis_sums.hpp"

#include "protocol/memory_stream.hpp"
#include "transfer/delta_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

using protocol::BlockChecksum;
using protocol::ChecksumKind;
using protocol::SeedPlacement;
using protocol::SumHead;
using protocol::TransferChecksum;
using delta_fixture::Bytes;
using delta_fixture::prng;

SumHead head_of(std::int32_t count, std::int32_t blength, std::int32_t s2length, std::int32_t remainder)
{
    SumHead h;
    h.count = count;
    h.blength = blength;
    h.s2length = s2length;
    h.remainder = remainder;
    return h;
}

SumHead choose(std::int64_t len, int protocol, bool redo = false, std::size_t xfer_len = 16,
               std::int32_t block_size = 0)
{
    BasisSumsParams p;
    p.protocol = protocol;
    p.redo = redo;
    p.xfer_sum_len = xfer_len;
    p.block_size = block_size;
    return choose_sum_head(len, p);
}

// A window that counts calls and can pretend the file ends early.
class CountingWindow final : public DataWindow {
public:
    CountingWindow(const Bytes& data, std::size_t visible) : data_(data), visible_(visible) {}
    std::span<const std::uint8_t> map(std::int64_t offset, std::size_t len) override
    {
        ++calls_;
        max_len_ = std::max(max_len_, len);
        const auto off = static_cast<std::size_t>(offset);
        if (off >= visible_)
            return {};
        return {data_.data() + off, std::min(len, visible_ - off)};
    }
    int calls_ = 0;
    std::size_t max_len_ = 0;

private:
    const Bytes& data_;
    std::size_t visible_;
};

std::string expected_sums(const Bytes& basis, const SumHead& head, BlockChecksum& strong, int protocol)
{
    std::string out;
    protocol::put_block_sums(out, protocol::compute_block_sums(basis, head, strong), protocol);
    return out;
}

// Verifies that an empty (or negative) basis gets the all-zero header.
TEST(ChooseSumHead, EmptyBasisHasNullHeader)
{
    EXPECT_EQ(choose(0, 32), SumHead{});
    EXPECT_EQ(choose(0, 29), SumHead{});
    EXPECT_EQ(choose(-5, 32), SumHead{});
}

// Verifies the square-root rule against values worked out by hand from
// generator.c:sum_sizes_sqroot (first pass: csum_length 2, xfer_sum_len 16).
TEST(ChooseSumHead, MatchesUpstreamFormula)
{
    for (const int proto : {29, 32}) {
        SCOPED_TRACE(proto);
        // len 1: blength 700 (len <= 700*700). s2: b = 10 (1>>1 is 0), minus 9 for the 9
        // nonzero shifts of 700 -> 1; (1+1-32+7)/8 = -23/8 = -2 in C, raised to 2.
        EXPECT_EQ(choose(1, proto), head_of(1, 700, 2, 1));
        // len 700: b = 10 + 2*9 - 9 = 19; (19-24)/8 = 0 -> 2. One full block.
        EXPECT_EQ(choose(700, proto), head_of(1, 700, 2, 0));
        // len 700*700: still the fixed 700.
        EXPECT_EQ(choose(700 * 700, proto), head_of(700, 700, 2, 0));
        // len 490001: c = 512 after 9 quarterings; bits give 512|128|32|16|8 = 696 (696^2 =
        // 484416 <= len, 704^2 > len), raised to 700. b = 10 + 2*18 - 9 = 37 -> 13/8 = 1 -> 2.
        // 490001 = 700*700 + 1: 700 blocks and a 1-byte remainder.
        EXPECT_EQ(choose(700 * 700 + 1, proto), head_of(701, 700, 2, 1));
        // 1 GiB = 2^30: c = 2^15 after 15 quarterings, no lower bit fits -> 32768.
        // b = 10 + 2*30 - 15 = 55 -> (55-24)/8 = 31/8 = 3. count 2^15.
        EXPECT_EQ(choose(std::int64_t{1} << 30, proto), head_of(32768, 32768, 3, 0));
        // 4 GiB + 1: c = 2^16, 65536^2 = 2^32 <= len. b = 10 + 2*32 - 16 = 58 -> 34/8 = 4.
        // count 2^16 + 1 with a 1-byte remainder.
        EXPECT_EQ(choose((std::int64_t{1} << 32) + 1, proto), head_of(65537, 65536, 4, 1));
    }
}

// Verifies that the protocol's largest block caps the square root: 1 TiB gives c = 2^20,
// above 128 KiB from protocol 30 on but below 512 MiB before it.
TEST(ChooseSumHead, ProtocolBlockCap)
{
    // p32: blength 2^17; b = 10 + 80 - 17 = 73 -> 49/8 = 6; count 2^40 / 2^17 = 2^23.
    EXPECT_EQ(choose(std::int64_t{1} << 40, 32), head_of(1 << 23, 1 << 17, 6, 0));
    // p29: blength 2^20; b = 10 + 80 - 20 = 70 -> 46/8 = 5; count 2^20.
    EXPECT_EQ(choose(std::int64_t{1} << 40, 29), head_of(1 << 20, 1 << 20, 5, 0));
}

// Verifies the redo pass (SUM_LENGTH capped by the digest) and --block-size.
TEST(ChooseSumHead, RedoAndBlockSize)
{
    EXPECT_EQ(choose(1, 32, true), head_of(1, 700, 16, 1));
    EXPECT_EQ(choose(1, 32, true, 8), head_of(1, 700, 8, 1)); // xxh64: 8-byte digest
    EXPECT_EQ(choose(10000, 32, false, 16, 1024), head_of(10, 1024, 2, 784));
    // 4 GiB with 1-byte blocks needs 2^32 blocks: upstream warns and sends no sums.
    BasisSumsParams p;
    p.block_size = 1;
    EXPECT_FALSE(choose_sum_head_checked(std::int64_t{1} << 32, p).has_value());
    EXPECT_EQ(choose_sum_head(std::int64_t{1} << 32, p), SumHead{});
    p.block_size = (1 << 17) + 1;
    EXPECT_THROW((void)choose_sum_head(100, p), std::invalid_argument);
    p.protocol = 29;
    EXPECT_EQ(choose_sum_head(100, p).blength, (1 << 17) + 1);
}

// Verifies that the writer's output equals the straightforward per-block computation, for
// several block sizes and checksums, and that it maps the basis in large windows.
TEST(WriteBasisSums, MatchesReferenceAndReadsInLargeWindows)
{
    const Bytes basis = prng(7, (3u << 20) + 12345);
    struct Case {
        ChecksumKind kind;
        std::int32_t seed;
        std::int32_t block_size;
        bool redo;
    };
    for (const Case c : {Case{ChecksumKind::Md5, 0, 0, false}, Case{ChecksumKind::Md5, 12345, 700, true},
                         Case{ChecksumKind::Xxh128, -3, 0, false}, Case{ChecksumKind::Xxh64, 99, 4096, true}}) {
        SCOPED_TRACE(static_cast<int>(c.kind));
        BasisSumsParams p;
        p.block_size = c.block_size;
        p.redo = c.redo;
        p.xfer_sum_len = protocol::checksum_length(c.kind);
        const SumHead head = choose_sum_head(static_cast<std::int64_t>(basis.size()), p);
        BlockChecksum strong(TransferChecksum{c.kind, SeedPlacement::Prepend}, c.seed);
        CountingWindow window(basis, basis.size());
        protocol::MemorySink sink;
        write_basis_sums(sink, head, window, strong, 32, {});
        EXPECT_EQ(sink.bytes(), expected_sums(basis, head, strong, 32));
        EXPECT_LE(window.calls_, 5);
    }
}

// Verifies that a block longer than the hashing window still comes out right (protocol 29
// allows blocks up to 512 MiB).
TEST(WriteBasisSums, BlockLargerThanWindow)
{
    const Bytes basis = prng(8, (5u << 20) + 3);
    BasisSumsParams p;
    p.protocol = 29;
    p.block_size = 3 << 20;
    const SumHead head = choose_sum_head(static_cast<std::int64_t>(basis.size()), p);
    ASSERT_EQ(head.count, 2);
    BlockChecksum strong(TransferChecksum{ChecksumKind::Md5, SeedPlacement::Prepend}, 1);
    CountingWindow window(basis, basis.size());
    protocol::MemorySink sink;
    write_basis_sums(sink, head, window, strong, 29, {});
    EXPECT_EQ(sink.bytes(), expected_sums(basis, head, strong, 29));
    EXPECT_EQ(window.calls_, 2);
}

// Verifies that a basis that reads short is hashed as zeros past its end (fileio.c:map_ptr).
TEST(WriteBasisSums, ShortBasisReadsAsZeros)
{
    Bytes basis = prng(9, 100000);
    const SumHead head = choose(static_cast<std::int64_t>(basis.size()), 32);
    CountingWindow window(basis, 60000);
    BlockChecksum strong(TransferChecksum{ChecksumKind::Md5, SeedPlacement::Prepend}, 0);
    protocol::MemorySink sink;
    write_basis_sums(sink, head, window, strong, 32, {});
    std::fill(basis.begin() + 60000, basis.end(), 0);
    EXPECT_EQ(sink.bytes(), expected_sums(basis, head, strong, 32));
}

// Verifies that --append sends the header only, and that an old protocol's header has no
// s2length field.
TEST(WriteBasisSums, AppendSendsHeaderOnly)
{
    const Bytes basis = prng(10, 5000);
    const SumHead head = choose(static_cast<std::int64_t>(basis.size()), 32);
    CountingWindow window(basis, basis.size());
    BlockChecksum strong(TransferChecksum{ChecksumKind::Md5, SeedPlacement::Prepend}, 0);
    protocol::MemorySink sink;
    write_basis_sums(sink, head, window, strong, 32, {}, true);
    std::string want;
    protocol::put_sum_head(want, head, 32);
    EXPECT_EQ(sink.bytes(), want);
    EXPECT_EQ(sink.bytes().size(), 16u);
    EXPECT_EQ(window.calls_, 0);

    protocol::MemorySink old;
    write_basis_sums(old, head, window, strong, 26, {}, true);
    EXPECT_EQ(old.bytes().size(), 12u);
}

// Verifies that hashing a large basis calls keepalive now and then, with the sums so far
// already handed to the sink.
TEST(WriteBasisSums, KeepaliveDuringLongHash)
{
    const Bytes basis = prng(11, 20u << 20);
    const SumHead head = choose(static_cast<std::int64_t>(basis.size()), 32);
    CountingWindow window(basis, basis.size());
    BlockChecksum strong(TransferChecksum{ChecksumKind::Xxh128, SeedPlacement::Prepend}, 5);
    protocol::MemorySink sink;
    int calls = 0;
    std::size_t seen_at_first = 0;
    write_basis_sums(sink, head, window, strong, 32, [&] {
        if (calls++ == 0)
            seen_at_first = sink.bytes().size();
    });
    EXPECT_GE(calls, 2);
    EXPECT_GT(seen_at_first, 16u);
    EXPECT_EQ(sink.bytes(), expected_sums(basis, head, strong, 32));
}

// Verifies that an s2length longer than the block checksum's digest is refused.
TEST(WriteBasisSums, RefusesS2LengthAboveDigest)
{
    const Bytes basis = prng(12, 1000);
    SumHead head = choose(static_cast<std::int64_t>(basis.size()), 32);
    head.s2length = 16;
    CountingWindow window(basis, basis.size());
    BlockChecksum strong(TransferChecksum{ChecksumKind::Xxh64, SeedPlacement::Prepend}, 0);
    protocol::MemorySink sink;
    EXPECT_THROW(write_basis_sums(sink, head, window, strong, 32, {}), std::invalid_argument);
}

} // namespace
} // namespace ocr::transfer
